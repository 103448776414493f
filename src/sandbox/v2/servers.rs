//! Servers and resources.

use serde_json::{json, Value};

use crate::sandbox::wire::iso;
use crate::sandbox::world::{ServerRecord, World};

pub(super) fn resources(w: &World) -> Vec<Value> {
    let mut out = Vec::new();
    for s in &w.servers {
        let owner = s.owner_id.and_then(|id| w.accounts.get(&id));
        let conns: Vec<Value> = s
            .connections()
            .into_iter()
            .map(|c| {
                json!({"protocol": c.protocol, "address": c.address, "port": c.port, "uri": c.uri,
                       "local": c.local, "relay": c.relay, "IPv6": false})
            })
            .collect();
        out.push(json!({
            "name": s.name,
            "product": "Plex Media Server",
            "productVersion": s.version,
            "platform": "Linux",
            "platformVersion": "6.1.0",
            "device": "PC",
            "clientIdentifier": s.machine_id,
            "createdAt": iso(s.created_at),
            "lastSeenAt": iso(s.updated_at),
            "provides": "server",
            "ownerId": owner.map(|o| o.id),
            "sourceTitle": owner.map(|o| o.display_name()),
            "publicAddress": s.address,
            "accessToken": s.access_token,
            "owned": s.owned,
            "home": false,
            "synced": false,
            "relay": true,
            "presence": true,
            "httpsRequired": false,
            "publicAddressMatches": false,
            "dnsRebindingProtection": false,
            "natLoopbackSupported": false,
            "connections": conns,
        }));
    }
    for d in &w.devices {
        out.push(json!({
            "name": d.name,
            "product": d.product,
            "productVersion": "4.145.1",
            "platform": d.platform,
            "platformVersion": "",
            "device": d.platform,
            "clientIdentifier": d.client_identifier,
            "createdAt": iso(d.created_at),
            "lastSeenAt": iso(d.created_at + 86_400),
            "provides": d.provides,
            "ownerId": null,
            "sourceTitle": null,
            "publicAddress": "203.0.113.200",
            "accessToken": d.access_token,
            "owned": true,
            "home": false,
            "synced": false,
            "relay": false,
            "presence": false,
            "httpsRequired": false,
            "publicAddressMatches": true,
            "dnsRebindingProtection": false,
            "natLoopbackSupported": false,
            "connections": [],
        }));
    }
    out
}

/// `GET /api/v2/servers/{mid}`: the server and its `librarySections` (`createdAt`/`updatedAt`
/// epoch seconds, not ISO strings, unlike the rest of v2).
pub(super) fn server_json(s: &ServerRecord, empty: bool) -> Value {
    let sections: Vec<Value> = if empty {
        Vec::new()
    } else {
        s.libraries
            .iter()
            .map(|l| json!({"id": l.id, "key": l.key, "title": l.title, "type": l.kind}))
            .collect()
    };
    json!({
        "name": s.name,
        "address": s.address,
        "port": s.port,
        "version": s.version,
        "scheme": "http",
        "host": s.address,
        "synced": false,
        "owned": s.owned,
        "localAddresses": s.local_address,
        "machineIdentifier": s.machine_id,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
        "librarySections": sections,
    })
}
