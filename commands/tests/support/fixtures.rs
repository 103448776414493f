//! Gateway payload builders. Every one is deserialised with serenity's own types in
//! `fixtures_deserialise_with_serenity` (a payload missing a field is dropped silently by
//! serenity, which would show up only as a timeout).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use super::fake_discord::{APP_ID, CHANNEL_ID, GUILD_ID};

pub const ADMIN_ROLE: u64 = 4000;
pub const MEMBER_ROLE: u64 = 4001;
pub const ADMIN_USER: u64 = 5001;
pub const OTHER_ADMIN: u64 = 5003;
pub const PLAIN_USER: u64 = 5002;
/// Every permission bit Discord defines (as a string, like Discord sends it).
pub const ALL_PERMISSIONS: &str = "2251799813685247";

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::SeqCst)
}

pub fn user(id: u64) -> Value {
    json!({"id": id.to_string(), "username": format!("user{id}"), "discriminator": "0", "global_name": null, "avatar": null})
}

/// A guild member with these roles and permissions.
pub fn member(user_id: u64, roles: &[u64], permissions: &str) -> Value {
    json!({
        "user": user(user_id),
        "nick": null, "avatar": null,
        "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false,
        "permissions": permissions,
    })
}

pub fn admin() -> Value {
    member(ADMIN_USER, &[ADMIN_ROLE], ALL_PERMISSIONS)
}

pub fn other_admin() -> Value {
    member(OTHER_ADMIN, &[MEMBER_ROLE, ADMIN_ROLE], ALL_PERMISSIONS)
}

/// Has Manage Server (so Discord shows the commands) but not the bot's admin role.
pub fn non_admin() -> Value {
    member(PLAIN_USER, &[MEMBER_ROLE], ALL_PERMISSIONS)
}

fn interaction(kind: u8, data: Value, member: Value) -> Value {
    let n = next();
    json!({
        "id": (800_000 + n).to_string(),
        "application_id": APP_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID.to_string(),
        "channel_id": CHANNEL_ID.to_string(),
        "channel": {"id": CHANNEL_ID.to_string(), "type": 0, "guild_id": GUILD_ID.to_string(), "name": "plex-admin", "permissions": ALL_PERMISSIONS},
        "member": member,
        "token": format!("itoken-{n}"),
        "version": 1,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "app_permissions": ALL_PERMISSIONS,
        "attachment_size_limit": 26_214_400,
        "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
        "context": 0,
    })
}

/// A string option.
pub fn opt(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

/// A user option (the user goes into `resolved`).
pub fn user_opt(name: &str, user_id: u64) -> Value {
    json!({"name": name, "type": 6, "value": user_id.to_string()})
}

fn command_data(name: &str, options: &[Value]) -> Value {
    let mut users = serde_json::Map::new();
    let mut members = serde_json::Map::new();
    for o in options {
        if o["type"] == 6 {
            let id = o["value"].as_str().unwrap().parse::<u64>().unwrap();
            users.insert(id.to_string(), user(id));
            let mut m = member(id, &[], "0");
            m.as_object_mut().unwrap().remove("user");
            members.insert(id.to_string(), m);
        }
    }
    let mut data = json!({"id": "7000", "name": name, "type": 1, "options": options, "guild_id": GUILD_ID.to_string()});
    if !users.is_empty() {
        data["resolved"] = json!({"users": users, "members": members});
    }
    data
}

/// `/name options…` by `member`.
pub fn slash(name: &str, options: &[Value], member: Value) -> Value {
    interaction(2, command_data(name, options), member)
}

/// Autocomplete for `/name` while typing `partial` into option `focused`.
pub fn autocomplete(name: &str, focused: &str, partial: &str, member: Value) -> Value {
    let options = vec![json!({"name": focused, "type": 3, "value": partial, "focused": true})];
    interaction(4, command_data(name, &options), member)
}

/// A press of button `custom_id` on `message` by `member`.
pub fn button(custom_id: &str, message: &Value, member: Value) -> Value {
    let mut i = interaction(
        3,
        json!({"custom_id": custom_id, "component_type": 2}),
        member,
    );
    i["message"] = message.clone();
    i
}

pub fn token(interaction: &Value) -> String {
    interaction["token"].as_str().unwrap().to_string()
}

pub fn id(interaction: &Value) -> String {
    interaction["id"].as_str().unwrap().to_string()
}

/// Custom ids of every button on a message, in order.
pub fn button_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

/// (custom id, disabled) of every button.
pub fn buttons(message: &Value) -> Vec<(String, bool)> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| {
            Some((
                b["custom_id"].as_str()?.to_string(),
                b["disabled"].as_bool().unwrap_or(false),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::fake_discord::{guild_json, message_json, ready_json};
    use super::*;
    use poise::serenity_prelude as serenity;

    #[test]
    fn fixtures_deserialise_with_serenity() {
        let msg = message_json(
            1,
            CHANNEL_ID,
            &json!({"content": "x", "embeds": [{"title": "t", "type": "rich"}],
                    "components": [{"type": 1, "components": [{"type": 2, "style": 1, "custom_id": "ss:apply:x", "label": "Apply", "disabled": false}]}]}),
        );
        serde_json::from_value::<serenity::Message>(msg.clone()).expect("message");
        for (what, i) in [
            ("slash", slash("sync-plan", &[opt("pair", "main")], admin())),
            (
                "slash with user",
                slash(
                    "sync-link",
                    &[user_opt("member", 77), opt("plex_user", "alice")],
                    admin(),
                ),
            ),
            (
                "autocomplete",
                autocomplete("sync-user", "plex_user", "al", non_admin()),
            ),
            ("button", button("ss:apply:abc", &msg, admin())),
        ] {
            let parsed: serenity::Interaction =
                serde_json::from_value(i.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
            match (what, parsed) {
                ("button", serenity::Interaction::Component(c)) => {
                    assert_eq!(c.data.custom_id, "ss:apply:abc");
                    assert_eq!(
                        c.member.unwrap().roles,
                        vec![serenity::RoleId::new(ADMIN_ROLE)]
                    );
                }
                ("autocomplete", serenity::Interaction::Autocomplete(_)) => {}
                (_, serenity::Interaction::Command(c)) => {
                    assert!(c.member.unwrap().permissions.is_some())
                }
                (w, other) => panic!("{w} parsed as {other:?}"),
            }
        }
        let addr = "127.0.0.1:1".parse().unwrap();
        serde_json::from_value::<serenity::Ready>(ready_json(addr, 1)).expect("ready");
        serde_json::from_value::<serenity::Guild>(guild_json(&[(ADMIN_ROLE, "admin")]))
            .expect("guild");
    }
}
