//! plex.tv error bodies and their mapping to [`PlexError`].
//!
//! Four shapes are seen, chosen by `Content-Type` but sniffed when that lies or is absent:
//! 1. v2 JSON `{"errors":[{"code":1029,"message":"...","status":401}]}`
//! 2. v2 XML `<errors><error code="1029" message="..." status="401"/></errors>`
//! 3. legacy XML `<Response code="410" status="..."/>`, and the older
//!    `<errors><error>Invalid authentication token.</error></errors>`
//! 4. an HTML page (Rails 404).

use std::time::Duration;

use quick_xml::events::Event;

use super::PlexError;

/// What an error body says, as far as it can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorInfo {
    pub code: Option<u64>,
    pub message: Option<String>,
}

const MAX_MESSAGE: usize = 300;

fn clip(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > MAX_MESSAGE {
        let mut out: String = s.chars().take(MAX_MESSAGE).collect();
        out.push('…');
        out
    } else {
        s
    }
}

/// Parse an error body of any of the four shapes. Never fails: unknown bodies give nothing.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> ErrorInfo {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return ErrorInfo::default();
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    let looks_html = {
        let head: String = trimmed
            .chars()
            .take(200)
            .collect::<String>()
            .to_ascii_lowercase();
        ct.contains("html") || head.starts_with("<!doctype html") || head.contains("<html")
    };
    let info = if looks_json || (ct.contains("json") && !trimmed.starts_with('<')) {
        parse_json(trimmed)
    } else if looks_html {
        parse_html(trimmed)
    } else if trimmed.starts_with('<') {
        parse_xml(trimmed)
    } else {
        ErrorInfo {
            code: None,
            message: Some(clip(trimmed)),
        }
    };
    ErrorInfo {
        code: info.code,
        message: info.message.map(|m| clip(&m)).filter(|m| !m.is_empty()),
    }
}

fn json_u64(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn parse_json(text: &str) -> ErrorInfo {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return ErrorInfo {
            code: None,
            message: Some(clip(text)),
        };
    };
    let first = v
        .get("errors")
        .and_then(|e| e.as_array())
        .and_then(|a| a.first())
        .cloned()
        .or_else(|| v.get("error").cloned());
    match first {
        Some(serde_json::Value::String(s)) => ErrorInfo {
            code: None,
            message: Some(s),
        },
        Some(obj) => ErrorInfo {
            code: obj.get("code").and_then(json_u64),
            message: obj
                .get("message")
                .or_else(|| obj.get("status").filter(|s| s.is_string()))
                .and_then(|m| m.as_str())
                .map(str::to_string),
        },
        None => ErrorInfo {
            code: v.get("code").and_then(json_u64),
            message: v
                .get("message")
                .or_else(|| v.get("status").filter(|s| s.is_string()))
                .and_then(|m| m.as_str())
                .map(str::to_string),
        },
    }
}

fn parse_xml(text: &str) -> ErrorInfo {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut info = ErrorInfo::default();
    let mut in_error = false;
    let mut error_text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase();
                if name == "error" || name == "response" {
                    for a in e.attributes().flatten() {
                        let key = String::from_utf8_lossy(a.key.local_name().as_ref())
                            .to_ascii_lowercase();
                        let val = a
                            .unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        match (name.as_str(), key.as_str()) {
                            (_, "code") => info.code = info.code.or(val.trim().parse().ok()),
                            ("error", "message") | ("response", "status")
                                if info.message.is_none() && !val.trim().is_empty() =>
                            {
                                info.message = Some(val);
                            }
                            _ => {}
                        }
                    }
                    if name == "error" && info.message.is_none() {
                        in_error = true;
                    }
                    if info.message.is_some() && info.code.is_some() {
                        break;
                    }
                }
            }
            Ok(Event::Text(t)) if in_error => {
                if let Ok(s) = t.unescape() {
                    error_text.push_str(&s);
                }
            }
            Ok(Event::End(e))
                if in_error && e.local_name().as_ref().eq_ignore_ascii_case(b"error") =>
            {
                in_error = false;
                if info.message.is_none() && !error_text.trim().is_empty() {
                    info.message = Some(error_text.trim().to_string());
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    if info.message.is_none() && !error_text.trim().is_empty() {
        info.message = Some(error_text.trim().to_string());
    }
    info
}

/// Text of the first `<title>` or `<h1>` of an HTML page, tags stripped.
fn parse_html(text: &str) -> ErrorInfo {
    let lower = text.to_ascii_lowercase();
    let grab = |tag: &str| -> Option<String> {
        let open = lower.find(&format!("<{tag}"))?;
        let start = open + lower[open..].find('>')? + 1;
        let end = start + lower[start..].find(&format!("</{tag}"))?;
        let inner = &text[start..end];
        let mut out = String::new();
        let mut in_tag = false;
        for c in inner.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        Some(out.trim().to_string()).filter(|s| !s.is_empty())
    };
    ErrorInfo {
        code: None,
        message: grab("h1").or_else(|| grab("title")),
    }
}

/// Seconds (or an HTTP date) from a `Retry-After` header.
pub fn retry_after(value: Option<&str>) -> Option<Duration> {
    let v = value?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// The typed error for a non-2xx answer, by status and the body's code.
pub fn to_error(status: u16, info: ErrorInfo, retry_after: Option<Duration>) -> PlexError {
    let message = info.message.clone().unwrap_or_else(|| {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no message")
            .to_string()
    });
    let lower = message.to_ascii_lowercase();
    match status {
        401 if info.code == Some(1029) || lower.contains("verification code") => {
            PlexError::TwoFactorRequired
        }
        401 if info.code == Some(1031) => PlexError::IpLocked,
        401 => PlexError::BadToken,
        422 if lower.contains("invalid token") => PlexError::BadToken,
        404 => PlexError::NotFound(message),
        410 => PlexError::EndpointGone(message),
        429 => PlexError::RateLimited { retry_after },
        500..=599 => PlexError::Server { status, message },
        _ => PlexError::Rejected { status, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, ct: &str, body: &str) -> PlexError {
        to_error(status, parse(Some(ct), body.as_bytes()), None)
    }

    #[test]
    fn v2_json_shapes() {
        let body = r#"{"errors":[{"code":1029,"message":"Please enter the verification code","status":401}]}"#;
        assert_eq!(
            parse(Some("application/json"), body.as_bytes()),
            ErrorInfo {
                code: Some(1029),
                message: Some("Please enter the verification code".into())
            }
        );
        assert_eq!(
            err(401, "application/json", body),
            PlexError::TwoFactorRequired
        );
        let locked = r#"{"errors":[{"code":1031,"message":"User could not be authenticated. This IP appears to be having trouble signing in to an account (detected repeated failures)","status":401}]}"#;
        assert_eq!(err(401, "application/json", locked), PlexError::IpLocked);
        let bad = r#"{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}"#;
        assert_eq!(err(401, "application/json", bad), PlexError::BadToken);
        let nf = r#"{"errors":[{"code":1002,"message":"The requested resource or endpoint could not be found","status":404}]}"#;
        assert_eq!(
            err(404, "application/json; charset=utf-8", nf),
            PlexError::NotFound("The requested resource or endpoint could not be found".into())
        );
        let missing = r#"{"errors":[{"code":1000,"message":"X-Plex-Client-Identifier is missing","status":400}]}"#;
        assert_eq!(
            err(400, "application/json", missing),
            PlexError::Rejected {
                status: 400,
                message: "X-Plex-Client-Identifier is missing".into()
            }
        );
    }

    #[test]
    fn v2_xml_shape() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><errors><error code="1029" message="Please enter the verification code" status="401"/></errors>"#;
        assert_eq!(
            err(401, "application/xml", body),
            PlexError::TwoFactorRequired
        );
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><errors><error code="1031" message="trouble" status="401"/></errors>"#;
        assert_eq!(err(401, "text/xml", body), PlexError::IpLocked);
    }

    #[test]
    fn legacy_shapes() {
        let gone = r#"<Response code="410" status="This endpoint was deprecated and removed"/>"#;
        assert_eq!(
            err(410, "application/xml", gone),
            PlexError::EndpointGone("This endpoint was deprecated and removed".into())
        );
        let dup = r#"<?xml version="1.0"?><Response code="400" status="You're already sharing this server with plexFriend. Please edit your existing share."/>"#;
        assert_eq!(
            err(400, "application/xml", dup),
            PlexError::Rejected {
                status: 400,
                message:
                    "You're already sharing this server with plexFriend. Please edit your existing share."
                        .into()
            }
        );
        let old = "<errors>\n  <error>Invalid authentication token.</error>\n</errors>";
        assert_eq!(
            parse(Some("application/xml"), old.as_bytes())
                .message
                .as_deref(),
            Some("Invalid authentication token.")
        );
        assert_eq!(err(401, "application/xml", old), PlexError::BadToken);
    }

    #[test]
    fn html_and_garbage() {
        let html = "<!DOCTYPE html>\n<html><head><title>The page you were looking for doesn't exist (404)</title></head><body><div class=\"dialog\"><h1>The page you were looking for doesn't exist.</h1></div></body></html>";
        assert_eq!(
            err(404, "text/html; charset=utf-8", html),
            PlexError::NotFound("The page you were looking for doesn't exist.".into())
        );
        // Content-Type lies: JSON labelled as HTML is still read as JSON.
        let body = r#"{"errors":[{"code":1029,"message":"x","status":401}]}"#;
        assert_eq!(err(401, "text/html", body), PlexError::TwoFactorRequired);
        // Empty bodies and garbage never panic.
        assert_eq!(
            err(502, "", ""),
            PlexError::Server {
                status: 502,
                message: "Bad Gateway".into()
            }
        );
        assert_eq!(
            err(503, "application/json", "{not json"),
            PlexError::Server {
                status: 503,
                message: "{not json".into()
            }
        );
        assert_eq!(
            err(422, "application/json", r#"{"error":"Invalid token"}"#),
            PlexError::BadToken
        );
    }

    #[test]
    fn rate_limit_and_retry_after() {
        assert_eq!(retry_after(Some("7")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(None), None);
        assert_eq!(
            to_error(429, ErrorInfo::default(), Some(Duration::from_secs(3))),
            PlexError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }
}
