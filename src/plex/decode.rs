//! Reading an answer's body: JSON (v2) or XML (legacy), with checks that it is complete (a
//! truncated body is malformed, never a shorter list).

use quick_xml::events::Event;
use serde::de::DeserializeOwned;

use super::request::Response;
use super::PlexError;

fn malformed(endpoint: &str, reason: impl Into<String>) -> PlexError {
    let mut reason: String = reason.into();
    if reason.chars().count() > 300 {
        reason = reason.chars().take(300).collect::<String>() + "…";
    }
    PlexError::Malformed {
        endpoint: endpoint.to_string(),
        reason,
    }
}

/// Parse a JSON body (v2).
pub fn json<T: DeserializeOwned>(resp: &Response) -> Result<T, PlexError> {
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed(&resp.endpoint, "empty body"));
    }
    serde_json::from_slice(&resp.body).map_err(|e| {
        if e.is_eof() {
            malformed(&resp.endpoint, format!("truncated JSON: {e}"))
        } else {
            let ct = resp.content_type.as_deref().unwrap_or("none");
            malformed(&resp.endpoint, format!("{e} (content-type {ct})"))
        }
    })
}

/// Check an XML document is complete and well formed and its root element is `root`.
pub fn check_xml(text: &str, root: &str) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth: usize = 0;
    let mut seen_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    check_root(e.local_name().as_ref(), root, &mut seen_root)?;
                }
                depth += 1;
            }
            Ok(Event::Empty(e)) => {
                if depth == 0 {
                    check_root(e.local_name().as_ref(), root, &mut seen_root)?;
                }
            }
            Ok(Event::End(_)) => {
                depth = depth.checked_sub(1).ok_or("unbalanced end tag")?;
            }
            Ok(Event::Text(t)) if depth == 0 => {
                if !t.iter().all(u8::is_ascii_whitespace) {
                    return Err("text outside the root element".into());
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("{e} at byte {}", reader.error_position())),
        }
    }
    if !seen_root {
        return Err(format!("no <{root}> element"));
    }
    if depth != 0 {
        return Err(format!("truncated XML: {depth} element(s) left open"));
    }
    Ok(())
}

/// A top-level element: the document's only root, named `root`.
fn check_root(name: &[u8], root: &str, seen_root: &mut bool) -> Result<(), String> {
    if *seen_root {
        return Err("more than one root element".into());
    }
    if name != root.as_bytes() {
        return Err(format!(
            "root element is <{}>, expected <{root}>",
            String::from_utf8_lossy(name)
        ));
    }
    *seen_root = true;
    Ok(())
}

/// Parse an XML body (legacy) whose root element must be `root`.
pub fn xml<T: DeserializeOwned>(resp: &Response, root: &str) -> Result<T, PlexError> {
    let text = std::str::from_utf8(&resp.body)
        .map_err(|e| malformed(&resp.endpoint, format!("not UTF-8: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(malformed(&resp.endpoint, "empty body"));
    }
    check_xml(text, root).map_err(|r| malformed(&resp.endpoint, r))?;
    quick_xml::de::from_str(text).map_err(|e| malformed(&resp.endpoint, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_completeness() {
        assert!(check_xml(
            r#"<?xml version="1.0"?><MediaContainer size="0"/>"#,
            "MediaContainer"
        )
        .is_ok());
        assert!(check_xml(
            "<MediaContainer><User id=\"1\"/></MediaContainer>",
            "MediaContainer"
        )
        .is_ok());
        let cut = "<MediaContainer><User id=\"1\"/><User id=\"2\"";
        assert!(check_xml(cut, "MediaContainer").is_err());
        let cut = "<MediaContainer><User id=\"1\"/><User id=\"2\"/>";
        assert!(check_xml(cut, "MediaContainer")
            .unwrap_err()
            .contains("truncated"));
        assert!(check_xml("<foo/>", "MediaContainer").is_err());
        assert!(check_xml("not xml at all", "MediaContainer").is_err());
        assert!(check_xml("<MediaContainer></Media>", "MediaContainer").is_err());
    }

    #[test]
    fn json_truncation_is_malformed() {
        let resp = Response {
            content_type: Some("application/json".into()),
            body: br#"[{"id":1},{"id":"#.to_vec(),
            endpoint: "GET /x".into(),
        };
        let e = json::<serde_json::Value>(&resp).unwrap_err();
        assert!(
            matches!(e, PlexError::Malformed { ref reason, .. } if reason.contains("truncated"))
        );
    }
}
