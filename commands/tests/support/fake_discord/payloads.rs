//! Discord's payloads as the fake sends them: users, messages, the gateway's READY, roles and the
//! guild, each with every field serenity 0.12 requires (a payload missing one is dropped).

use serde_json::{json, Value};
use std::net::SocketAddr;

pub const APP_ID: u64 = 1000;
pub const GUILD_ID: u64 = 2000;
pub const CHANNEL_ID: u64 = 3000;

pub fn user_json(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0000", "global_name": null, "avatar": null, "bot": bot})
}

/// A message in Discord's shape, from a create/edit body.
pub fn message_json(id: u64, channel: u64, body: &Value) -> Value {
    let mut m = json!({
        "id": id.to_string(),
        "channel_id": channel.to_string(),
        "guild_id": GUILD_ID.to_string(),
        "author": user_json(APP_ID, "sharesync", true),
        "content": "",
        "timestamp": "2025-01-01T00:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "application_id": APP_ID.to_string(),
    });
    merge(&mut m, body);
    m
}

/// Applies a create/edit body to a stored message.
pub fn merge(m: &mut Value, body: &Value) {
    for key in ["content", "embeds", "components", "flags"] {
        if let Some(v) = body.get(key) {
            if !v.is_null() {
                m[key] = v.clone();
            }
        }
    }
    if let Some(files) = body.get("attachments").and_then(Value::as_array) {
        m["attachments"] = Value::Array(
            files
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    json!({"id": (90_000 + i).to_string(), "filename": a.get("filename").cloned().unwrap_or(json!("file")),
                           "size": 1, "url": "http://fake/att", "proxy_url": "http://fake/att"})
                })
                .collect(),
        );
    }
}

pub fn ready_json(addr: SocketAddr, session: u64) -> Value {
    json!({
        "v": 10,
        "user": user_json(APP_ID, "sharesync", true),
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "session_id": format!("session-{session}"),
        "resume_gateway_url": format!("ws://{addr}/ws"),
        "application": {"id": APP_ID.to_string(), "flags": 0},
        "shard": [0, 1],
    })
}

pub fn role_json(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(), "name": name, "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false, "icon": null, "unicode_emoji": null, "position": 0, "permissions": "0",
        "managed": false, "mentionable": false, "flags": 0
    })
}

pub fn guild_json(roles: &[(u64, &str)]) -> Value {
    let mut role_list = vec![role_json(GUILD_ID, "@everyone")];
    role_list.extend(roles.iter().map(|(id, n)| role_json(*id, n)));
    json!({
        "id": GUILD_ID.to_string(), "name": "Plex friends", "icon": null, "icon_hash": null, "splash": null,
        "discovery_splash": null, "owner_id": "1", "afk_channel_id": null, "afk_timeout": 300,
        "widget_enabled": false, "widget_channel_id": null, "verification_level": 0,
        "default_message_notifications": 0, "explicit_content_filter": 0, "roles": role_list,
        "emojis": [], "features": [], "mfa_level": 0, "application_id": null, "system_channel_id": null,
        "system_channel_flags": 0, "rules_channel_id": null, "max_presences": null, "max_members": 1000,
        "vanity_url_code": null, "description": null, "banner": null, "premium_tier": 0,
        "premium_subscription_count": 0, "preferred_locale": "en-US", "public_updates_channel_id": null,
        "max_video_channel_users": 25, "max_stage_video_channel_users": 50, "approximate_member_count": null,
        "approximate_presence_count": null, "welcome_screen": null, "nsfw_level": 0, "stickers": [],
        "premium_progress_bar_enabled": false, "safety_alerts_channel_id": null,
        "joined_at": "2025-01-01T00:00:00.000000+00:00", "large": false, "unavailable": false,
        "member_count": 1, "voice_states": [], "members": [], "presences": [], "threads": [],
        "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
        "channels": [{
            "id": CHANNEL_ID.to_string(), "type": 0, "guild_id": GUILD_ID.to_string(), "position": 0,
            "permission_overwrites": [], "name": "plex-admin", "topic": null, "nsfw": false,
            "last_message_id": null, "rate_limit_per_user": 0, "parent_id": null, "last_pin_timestamp": null
        }],
        "incidents_data": null, "inventory_settings": null, "embedded_activities": [],
        "latest_onboarding_question_id": null, "region": "", "home_header": null, "hub_type": null,
        "lazy": true, "owner": false, "permissions": null, "activity_instances": [], "clan": null
    })
}
