//! Request bodies as both families read them: lenient where plex.tv is, strict where a client
//! could otherwise get away with a wrong type.

use serde_json::Value;

use crate::sandbox::world::SettingsRecord;

/// A list of section ids: a JSON array of non-negative integers, nothing else.
pub(crate) fn parse_ids(v: &Value, field: &str) -> Result<Vec<u64>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| format!("{field} must be an array of library section ids"))?;
    items
        .iter()
        .map(|i| {
            i.as_u64()
                .ok_or_else(|| format!("{field} must contain numbers, found {i}"))
        })
        .collect()
}

fn lenient_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.as_str() {
            "1" | "true" => Some(true),
            "0" | "false" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `sharingSettings`/`settings`/`sharing_settings`: absent fields take the defaults (a v2
/// update replaces the settings wholesale).
pub(crate) fn parse_settings(v: Option<&Value>) -> SettingsRecord {
    let mut s = SettingsRecord::reset();
    let Some(Value::Object(map)) = v else {
        return s;
    };
    for (name, allowed) in s.permissions_mut() {
        if let Some(given) = map.get(name).and_then(lenient_bool) {
            *allowed = given;
        }
    }
    s.allow_tuners = match map.get("allowTuners") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0).min(2) as u8,
        Some(Value::String(t)) => t.parse::<u8>().unwrap_or(0).min(2),
        Some(Value::Bool(true)) => 1,
        _ => 0,
    };
    for (name, filter) in s.filters_mut() {
        match map.get(name) {
            Some(Value::String(t)) => *filter = Some(t.clone()),
            Some(Value::Null) => *filter = None,
            _ => {}
        }
    }
    s
}

/// An account id given as a number or a numeric string.
pub(crate) fn parse_account_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
