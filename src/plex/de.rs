//! Lenient field decoders that work for both quick-xml attributes (always text) and JSON
//! (real numbers, booleans and nulls). plex.tv mixes `"1"`, `1` and `true` freely.

use std::fmt;

use secrecy::SecretString;
use serde::de::{self, Deserializer, Visitor};

/// A value that may be a number, a numeric string, a boolean, empty or null.
#[derive(Debug, Clone, PartialEq)]
enum Loose {
    Null,
    Bool(bool),
    Int(u64),
    Neg,
    Text(String),
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, boolean, string or null")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Loose, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::Int(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
        Ok(u64::try_from(v).map(Loose::Int).unwrap_or(Loose::Neg))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
        if v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64 {
            Ok(Loose::Int(v as u64))
        } else {
            Ok(Loose::Text(v.to_string()))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Text(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        // quick-xml may present an element with only text as a map with a `$text` key.
        let mut text = None;
        while let Some((k, v)) = map.next_entry::<String, Loose>()? {
            if k == "$text" || k == "$value" {
                text = Some(v);
            }
        }
        Ok(text.unwrap_or(Loose::Null))
    }
}

impl<'de> serde::Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

fn loose<'de, D: Deserializer<'de>>(d: D) -> Result<Loose, D::Error> {
    d.deserialize_any(LooseVisitor)
}

fn text_to_u64(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok()
}

/// A required unsigned id: a JSON number or a numeric string.
pub fn u64_req<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match loose(d)? {
        Loose::Int(v) => Ok(v),
        Loose::Text(s) => {
            text_to_u64(&s).ok_or_else(|| de::Error::custom(format!("not an id: {s:?}")))
        }
        other => Err(de::Error::custom(format!("expected an id, got {other:?}"))),
    }
}

/// An optional unsigned number; null, missing and empty text are `None`.
pub fn u64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match loose(d)? {
        Loose::Int(v) => Ok(Some(v)),
        Loose::Null => Ok(None),
        Loose::Text(s) if s.trim().is_empty() => Ok(None),
        Loose::Text(s) => text_to_u64(&s)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("not a number: {s:?}"))),
        Loose::Bool(b) => Ok(Some(u64::from(b))),
        Loose::Neg => Err(de::Error::custom("negative number")),
    }
}

/// A boolean as plex.tv spells it: `true/false`, `1/0`, `"1"/"0"`, `"true"/"false"`;
/// null, missing and empty are `false`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match loose(d)? {
        Loose::Bool(b) => Ok(b),
        Loose::Int(v) => Ok(v != 0),
        Loose::Null | Loose::Neg => Ok(false),
        Loose::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(true),
            "0" | "false" | "no" | "" => Ok(false),
            other => Err(de::Error::custom(format!("not a boolean: {other:?}"))),
        },
    }
}

/// A flag that may be absent (with `#[serde(default)]`) or null: `None`, for fields whose
/// absence must not read as false.
pub fn flag_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match loose(d)? {
        Loose::Null => Ok(None),
        Loose::Bool(b) => Ok(Some(b)),
        Loose::Int(v) => Ok(Some(v != 0)),
        Loose::Neg => Ok(Some(false)),
        Loose::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            "" => Ok(None),
            other => Err(de::Error::custom(format!("not a boolean: {other:?}"))),
        },
    }
}

/// An optional string: JSON null is `None`, numbers become their text.
pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match loose(d)? {
        Loose::Null => Ok(None),
        Loose::Text(s) => Ok(Some(s)),
        Loose::Int(v) => Ok(Some(v.to_string())),
        Loose::Bool(b) => Ok(Some(b.to_string())),
        Loose::Neg => Ok(Some("-".to_string())),
    }
}

/// A [`string_opt`] whose absence matters (with `#[serde(default)]`): `None` when the key is
/// missing, `Some(None)` for an explicit null.
pub fn string_present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    string_opt(d).map(Some)
}

/// A list that JSON may spell as `null`.
pub fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    Ok(<Option<Vec<T>> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// True when a timestamp-ish field is set (non-null, non-empty, non-zero).
pub fn is_set(v: &Option<String>) -> bool {
    matches!(v.as_deref().map(str::trim), Some(s) if !s.is_empty() && s != "0")
}

/// A token that a sign-in or PIN response returns as its product. Wrapped at once so no
/// `Debug` of a wire struct can print it.
#[derive(Clone, Default)]
pub struct WireSecret(pub Option<SecretString>);

impl fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "[REDACTED]"
        } else {
            "None"
        })
    }
}

impl<'de> serde::Deserialize<'de> for WireSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(WireSecret(match loose(d)? {
            Loose::Text(s) if !s.is_empty() => Some(SecretString::from(s)),
            _ => None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct J {
        #[serde(deserialize_with = "u64_req")]
        id: u64,
        #[serde(default, deserialize_with = "u64_opt")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "flag")]
        b: bool,
        #[serde(default, deserialize_with = "string_opt")]
        s: Option<String>,
    }

    #[derive(Deserialize, Debug)]
    struct X {
        #[serde(rename = "@id", deserialize_with = "u64_req")]
        id: u64,
        #[serde(rename = "@n", default, deserialize_with = "u64_opt")]
        n: Option<u64>,
        #[serde(rename = "@b", default, deserialize_with = "flag")]
        b: bool,
        #[serde(rename = "@s", default, deserialize_with = "string_opt")]
        s: Option<String>,
    }

    #[test]
    fn json_values() {
        let j: J = serde_json::from_str(r#"{"id":"12","n":null,"b":true,"s":null}"#).unwrap();
        assert_eq!((j.id, j.n, j.b, j.s), (12, None, true, None));
        let j: J = serde_json::from_str(r#"{"id":12,"n":3,"b":"1","s":""}"#).unwrap();
        assert_eq!(
            (j.id, j.n, j.b, j.s),
            (12, Some(3), true, Some(String::new()))
        );
        let j: J = serde_json::from_str(r#"{"id":12}"#).unwrap();
        assert_eq!((j.n, j.b, j.s), (None, false, None));
        assert!(serde_json::from_str::<J>(r#"{"id":"x"}"#).is_err());
    }

    #[test]
    fn xml_values() {
        let x: X = quick_xml::de::from_str(r#"<X id="118181361" n="" b="1" s=""/>"#).unwrap();
        assert_eq!(
            (x.id, x.n, x.b, x.s),
            (118181361, None, true, Some(String::new()))
        );
        let x: X = quick_xml::de::from_str(r#"<X id="5" b="0"/>"#).unwrap();
        assert_eq!((x.id, x.n, x.b, x.s), (5, None, false, None));
        assert!(quick_xml::de::from_str::<X>(r#"<X id="abc"/>"#).is_err());
    }

    #[test]
    fn wire_secret_never_debugs() {
        #[derive(Deserialize, Debug)]
        struct T {
            #[serde(rename = "authToken", default)]
            t: WireSecret,
        }
        let t: T = serde_json::from_str(r#"{"authToken":"sekrit-value"}"#).unwrap();
        assert!(!format!("{t:?}").contains("sekrit"));
        assert!(t.t.0.is_some());
        let t: T = serde_json::from_str(r#"{"authToken":null}"#).unwrap();
        assert!(t.t.0.is_none());
    }
}
