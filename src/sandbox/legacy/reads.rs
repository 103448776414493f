//! What the legacy reads render: users, servers, resources and shared servers, as XML elements.

use crate::sandbox::wire::{self, El, Reply};
use crate::sandbox::world::{hex_from, ServerRecord, ShareRecord, World};

pub(super) fn myplex(root: El) -> El {
    root.attr("friendlyName", "myPlex")
        .attr("identifier", "com.plexapp.plugins.myplex")
}

pub(super) fn container(mid: &str, children: Vec<El>) -> El {
    myplex(El::new("MediaContainer"))
        .attr("machineIdentifier", mid)
        .attr("size", children.len())
        .children(children)
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// `GET /api/users`: friends and managed users, with a `Server` per share (owned="1") and per
/// server they share to the owner (owned="0"); pending invites to addresses without an account
/// appear as users with no id and an empty title.
pub(super) fn users(w: &World, is_owner: bool) -> Reply {
    let mut users = Vec::new();
    if is_owner {
        let by_account = w.shares_by_account();
        for a in w.accounts.values() {
            let shares: Vec<ShareRecord> = by_account
                .get(&a.id)
                .into_iter()
                .flatten()
                .filter_map(|s| w.legacy_view(s))
                .collect();
            let settings = shares
                .first()
                .map(|s| s.settings.clone())
                .unwrap_or_default();
            let mut u = El::new("User").attr("id", a.id).attr("title", &a.title);
            if !a.is_managed() {
                u = u
                    .attr("username", opt(&a.username))
                    .attr("email", opt(&a.email));
            }
            u = u
                .attr("recommendationsPlaylistId", "")
                .attr("thumb", a.thumb())
                .flag("protected", false)
                .flag("home", a.home)
                .attr("allowTuners", settings.allow_tuners)
                .flag("allowSync", settings.allow_sync)
                .flag("allowCameraUpload", settings.allow_camera_upload)
                .flag("allowChannels", settings.allow_channels)
                .flag("allowSubtitleAdmin", settings.allow_subtitle_admin)
                .attr("filterAll", opt(&settings.filter_all))
                .attr("filterMovies", opt(&settings.filter_movies))
                .attr("filterMusic", opt(&settings.filter_music))
                .attr("filterPhotos", opt(&settings.filter_photos))
                .attr("filterTelevision", opt(&settings.filter_television))
                .flag("restricted", a.restricted);
            for s in &shares {
                if let Some(server) = w.server(&s.machine_id) {
                    u = u.child(user_server(w, server, s));
                }
            }
            for server in w.servers.iter().filter(|sv| sv.owner_id == Some(a.id)) {
                u = u.child(
                    El::new("Server")
                        .attr("id", server.incoming_share_id.unwrap_or_default())
                        .attr("serverId", server.server_id)
                        .attr("machineIdentifier", &server.machine_id)
                        .attr("name", &server.name)
                        .attr("lastSeenAt", server.updated_at)
                        .attr("numLibraries", server.libraries.len())
                        .flag("allLibraries", true)
                        .flag("owned", false)
                        .flag("pending", false),
                );
            }
            users.push(wire::rendered(&u));
        }
        // Invites to addresses with no account, grouped by address.
        let mut invites: Vec<(String, Vec<&ShareRecord>)> = Vec::new();
        for s in w.shares.values().filter(|s| s.account_id.is_none()) {
            let email = s.invited_email.clone().unwrap_or_default();
            match invites
                .iter_mut()
                .find(|(e, _)| e.eq_ignore_ascii_case(&email))
            {
                Some((_, list)) => list.push(s),
                None => invites.push((email, vec![s])),
            }
        }
        for (email, shares) in invites {
            let mut u = El::new("User")
                .attr("title", "")
                .attr("username", "")
                .attr("email", &email)
                .attr("recommendationsPlaylistId", "")
                .attr("thumb", "")
                .flag("protected", false)
                .flag("home", false)
                .flag("restricted", false);
            for s in shares {
                if let Some(server) = w.server(&s.machine_id) {
                    u = u.child(user_server(w, server, s));
                }
            }
            users.push(wire::rendered(&u));
        }
    }
    let root = myplex(El::new("MediaContainer"))
        .attr(
            "machineIdentifier",
            hex_from(&format!("account-mid:{}", w.owner.id), 13).to_uppercase(),
        )
        .attr("totalSize", users.len())
        .attr("size", users.len());
    Reply::xml_list(200, root, users)
}

fn num_libraries(server: &ServerRecord, s: &ShareRecord) -> usize {
    if s.all_libraries {
        server.libraries.len()
    } else {
        s.section_ids.len()
    }
}

fn user_server(_w: &World, server: &ServerRecord, s: &ShareRecord) -> El {
    El::new("Server")
        .attr("id", s.id)
        .attr("serverId", server.server_id)
        .attr("machineIdentifier", &server.machine_id)
        .attr("name", &server.name)
        .attr("lastSeenAt", s.accepted_at.unwrap_or(s.invited_at))
        .attr("numLibraries", num_libraries(server, s))
        .flag("allLibraries", s.all_libraries)
        .flag("owned", true)
        .flag("pending", s.pending)
}

/// `SharedServer` with a `Section` for every library of the server, `shared` per the share.
pub(super) fn shared_server(w: &World, server: &ServerRecord, s: &ShareRecord) -> El {
    let account = s.account_id.and_then(|id| w.accounts.get(&id));
    let mut el = El::new("SharedServer").attr("id", s.id);
    el = match account {
        Some(a) => el
            .attr("username", opt(&a.username))
            .attr("email", opt(&a.email))
            .attr("userID", a.id),
        None => el.attr("username", "").attr("email", opt(&s.invited_email)),
    };
    let st = &s.settings;
    let el = el
        .attr("accessToken", &s.access_token)
        .attr("name", &server.name)
        .attr(
            "acceptedAt",
            s.accepted_at.map(|t| t.to_string()).unwrap_or_default(),
        )
        .attr("invitedAt", s.invited_at)
        .flag("allowSync", st.allow_sync)
        .flag("allowCameraUpload", st.allow_camera_upload)
        .flag("allowChannels", st.allow_channels)
        .attr("allowTuners", st.allow_tuners)
        .flag("allowSubtitleAdmin", st.allow_subtitle_admin)
        .flag("owned", true)
        .flag("allLibraries", s.all_libraries)
        .attr("filterAll", opt(&st.filter_all));
    // A share in `World::partial_settings` comes without its `filterMovies` attribute.
    let el = if w.partial_settings.contains(&s.id) {
        el
    } else {
        el.attr("filterMovies", opt(&st.filter_movies))
    };
    el.attr("filterMusic", opt(&st.filter_music))
        .attr("filterPhotos", opt(&st.filter_photos))
        .attr("filterTelevision", opt(&st.filter_television))
        .children(server.libraries.iter().map(|l| {
            El::new("Section")
                .attr("id", l.id)
                .attr("key", l.key)
                .attr("title", &l.title)
                .attr("type", &l.kind)
                .flag("shared", s.all_libraries || s.section_ids.contains(&l.id))
        }))
}

fn server_el(server: &ServerRecord, with_token: bool) -> El {
    let el = El::new("Server");
    let el = if with_token {
        el.attr("accessToken", &server.access_token)
    } else {
        el
    };
    el.attr("name", &server.name)
        .attr("address", &server.address)
        .attr("port", server.port)
        .attr("version", &server.version)
        .attr("scheme", "http")
        .attr("host", &server.address)
        .attr("localAddresses", &server.local_address)
        .attr("machineIdentifier", &server.machine_id)
        .attr("createdAt", server.created_at)
        .attr("updatedAt", server.updated_at)
        .flag("owned", server.owned)
        .flag("synced", false)
}

/// `GET /api/servers/{mid}`: the server and every section (`id key type title`).
pub(super) fn catalogue(server: &ServerRecord, empty: bool) -> Reply {
    let sections: Vec<El> = if empty {
        Vec::new()
    } else {
        server
            .libraries
            .iter()
            .map(|l| {
                El::new("Section")
                    .attr("id", l.id)
                    .attr("key", l.key)
                    .attr("type", &l.kind)
                    .attr("title", &l.title)
            })
            .collect()
    };
    Reply::xml(
        200,
        myplex(El::new("MediaContainer"))
            .attr("machineIdentifier", &server.machine_id)
            .attr("size", 1)
            .child(server_el(server, false).children(sections)),
    )
}

pub(super) fn servers(w: &World, is_owner: bool) -> Reply {
    let list: Vec<El> = if is_owner {
        w.servers.iter().map(|s| server_el(s, true)).collect()
    } else {
        Vec::new()
    };
    Reply::xml(
        200,
        myplex(El::new("MediaContainer"))
            .attr(
                "machineIdentifier",
                hex_from(&format!("account-mid:{}", w.owner.id), 13).to_uppercase(),
            )
            .attr("size", list.len())
            .children(list),
    )
}

/// `GET /api/resources`: `Device` per server (owned or shared to the owner) and per device.
pub(super) fn resources(w: &World, is_owner: bool) -> Reply {
    let mut devices = Vec::new();
    if is_owner {
        for s in &w.servers {
            let owner = s.owner_id.and_then(|id| w.accounts.get(&id));
            let mut d = El::new("Device")
                .attr("name", &s.name)
                .attr("product", "Plex Media Server")
                .attr("productVersion", &s.version)
                .attr("platform", "Linux")
                .attr("platformVersion", "6.1.0")
                .attr("device", "PC")
                .attr("clientIdentifier", &s.machine_id)
                .attr("createdAt", s.created_at)
                .attr("lastSeenAt", s.updated_at)
                .attr("provides", "server")
                .flag("owned", s.owned);
            if let Some(o) = owner {
                d = d
                    .attr("ownerId", o.id)
                    .attr("sourceTitle", o.display_name());
            }
            d = d
                .attr("accessToken", &s.access_token)
                .attr("publicAddress", &s.address)
                .flag("httpsRequired", false)
                .flag("synced", false)
                .flag("relay", true)
                .flag("dnsRebindingProtection", false)
                .flag("natLoopbackSupported", false)
                .flag("publicAddressMatches", false)
                .flag("presence", true);
            for c in s.connections() {
                d = d.child(
                    El::new("Connection")
                        .attr("protocol", c.protocol)
                        .attr("address", c.address)
                        .attr("port", c.port)
                        .attr("uri", c.uri)
                        .flag("local", c.local)
                        .flag("relay", c.relay),
                );
            }
            devices.push(d);
        }
        for dev in &w.devices {
            devices.push(
                El::new("Device")
                    .attr("name", &dev.name)
                    .attr("product", &dev.product)
                    .attr("productVersion", "4.145.1")
                    .attr("platform", &dev.platform)
                    .attr("platformVersion", "")
                    .attr("device", &dev.platform)
                    .attr("clientIdentifier", &dev.client_identifier)
                    .attr("createdAt", dev.created_at)
                    .attr("lastSeenAt", dev.created_at + 86_400)
                    .attr("provides", &dev.provides)
                    .flag("owned", true)
                    .attr("accessToken", &dev.access_token)
                    .attr("publicAddress", "203.0.113.200")
                    .flag("httpsRequired", false)
                    .flag("synced", false)
                    .flag("relay", false)
                    .flag("presence", false),
            );
        }
    }
    Reply::xml(
        200,
        El::new("MediaContainer")
            .attr("size", devices.len())
            .children(devices),
    )
}
