//! Rendering: XML element trees, JSON, the error shapes of plex-tv-api.md §0.3, and the
//! mangled bodies faults produce.

use serde_json::{json, Value};

/// An XML element. Attributes keep their insertion order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<El>,
    pub text: Option<String>,
}

impl El {
    pub fn new(name: impl Into<String>) -> El {
        El {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: None,
        }
    }

    pub fn attr(mut self, k: &str, v: impl ToString) -> El {
        self.attrs.push((k.to_string(), v.to_string()));
        self
    }

    /// Legacy booleans: `"1"` / `"0"`.
    pub fn flag(self, k: &str, v: bool) -> El {
        self.attr(k, if v { "1" } else { "0" })
    }

    pub fn child(mut self, c: El) -> El {
        self.children.push(c);
        self
    }

    pub fn children(mut self, cs: impl IntoIterator<Item = El>) -> El {
        self.children.extend(cs);
        self
    }

    pub fn text(mut self, t: impl Into<String>) -> El {
        self.text = Some(t.into());
        self
    }

    fn open_tag(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_into(out, v, true);
            out.push('"');
        }
    }

    fn write(&self, out: &mut String, depth: usize) {
        indent(out, depth);
        self.open_tag(out);
        if self.children.is_empty() && self.text.is_none() {
            out.push_str("/>\n");
            return;
        }
        out.push('>');
        if let Some(t) = &self.text {
            escape_into(out, t, false);
        }
        if !self.children.is_empty() {
            out.push('\n');
            for c in &self.children {
                c.write(out, depth + 1);
            }
            indent(out, depth);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push_str(">\n");
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' if attr => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// One element rendered as a child of the root (for lists built item by item, so a large
/// answer never exists as a whole tree).
pub(crate) fn rendered(el: &El) -> String {
    let mut out = String::new();
    el.write(&mut out, 1);
    out
}

pub(crate) fn xml_doc(root: &El) -> String {
    let mut out = String::from(XML_DECL);
    root.write(&mut out, 0);
    out
}

/// The root's opening tag (attributes unchanged, so a `size` still claims the full count) and
/// the first half of its children; no closing tag.
pub(crate) fn xml_truncated(root: &El) -> String {
    let mut out = String::from(XML_DECL);
    root.open_tag(&mut out);
    out.push_str(">\n");
    for c in root.children.iter().take(root.children.len() / 2) {
        c.write(&mut out, 1);
    }
    out
}

/// A response body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Xml(Box<El>),
    /// A root element (attributes only) and its children, each already rendered.
    XmlList(Box<El>, Vec<String>),
    Json(Value),
    /// A JSON array, each element already serialized.
    JsonList(Vec<String>),
    Html(String),
    Text(String),
}

/// A response before faults and latency.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Reply {
    pub fn new(status: u16, body: Body) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }

    pub fn xml(status: u16, root: El) -> Reply {
        Reply::new(status, Body::Xml(Box::new(root)))
    }

    pub fn xml_list(status: u16, root: El, items: Vec<String>) -> Reply {
        Reply::new(status, Body::XmlList(Box::new(root), items))
    }

    pub fn json(status: u16, v: Value) -> Reply {
        Reply::new(status, Body::Json(v))
    }

    pub fn header(mut self, k: &str, v: impl ToString) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn content_type(&self) -> Option<&'static str> {
        match self.body {
            Body::Empty => None,
            Body::Xml(_) | Body::XmlList(..) => Some("application/xml; charset=utf-8"),
            Body::Json(_) | Body::JsonList(_) => Some("application/json; charset=utf-8"),
            Body::Html(_) => Some("text/html; charset=utf-8"),
            Body::Text(_) => Some("text/plain; charset=utf-8"),
        }
    }

    pub fn render(&self) -> String {
        match &self.body {
            Body::Empty => String::new(),
            Body::Xml(el) => xml_doc(el),
            Body::XmlList(root, items) => {
                if items.is_empty() {
                    return xml_doc(root);
                }
                let mut out =
                    String::with_capacity(items.iter().map(String::len).sum::<usize>() + 256);
                out.push_str(XML_DECL);
                root.open_tag(&mut out);
                out.push_str(">\n");
                for i in items {
                    out.push_str(i);
                }
                out.push_str("</");
                out.push_str(&root.name);
                out.push_str(">\n");
                out
            }
            Body::Json(v) => v.to_string(),
            Body::JsonList(items) => format!("[{}]", items.join(",")),
            Body::Html(s) | Body::Text(s) => s.clone(),
        }
    }

    /// Well-formed as far as it goes, but cut: half a list, no closing tag/bracket.
    pub fn render_truncated(&self) -> String {
        match &self.body {
            Body::Xml(el) => xml_truncated(el),
            Body::XmlList(root, items) => {
                let mut out = String::from(XML_DECL);
                root.open_tag(&mut out);
                out.push_str(">\n");
                for i in items.iter().take(items.len() / 2) {
                    out.push_str(i);
                }
                out
            }
            Body::JsonList(items) => format!("[{}", items[..items.len() / 2].join(",")),
            Body::Json(Value::Array(items)) => {
                let half: Vec<String> = items
                    .iter()
                    .take(items.len() / 2)
                    .map(Value::to_string)
                    .collect();
                format!("[{}", half.join(","))
            }
            _ => {
                let full = self.render();
                if full.is_empty() {
                    "<MediaContainer size=\"1\">".to_string()
                } else {
                    cut(&full, full.len() / 2).to_string()
                }
            }
        }
    }

    /// Garbage: the body cut mid-token with junk after it.
    pub fn render_malformed(&self) -> String {
        let full = self.render();
        let mut out = cut(&full, full.len() * 3 / 5).to_string();
        out.push_str("\u{0}<<!garbage \"&&}{");
        out
    }
}

fn cut(s: &str, mut at: usize) -> &str {
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

/// `2023-11-14T22:13:20Z`.
pub(crate) fn iso(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

pub(crate) fn iso_opt(epoch: Option<i64>) -> Value {
    epoch.map(|e| Value::String(iso(e))).unwrap_or(Value::Null)
}

pub(crate) fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

// ---------------------------------------------------------------------------------------------
// v2 XML: the JSON document with lower-camel elements. Scalars become attributes (booleans
// "1"/"0", ISO timestamps of `...At` keys back to epoch seconds, nulls left out), objects
// child elements, arrays a wrapper element of singular-named children.

pub(crate) fn singular(name: &str) -> String {
    match name {
        "libraries" => "library".into(),
        "librarySections" => "librarySection".into(),
        "entitlements" => "entitlement".into(),
        "sharedServers" => "sharedServer".into(),
        "sharedSources" => "sharedSource".into(),
        "resources" => "resource".into(),
        "friends" => "friend".into(),
        "invites" => "invite".into(),
        "connections" => "connection".into(),
        "subscriptions" => "subscription".into(),
        "errors" => "error".into(),
        other => other.strip_suffix('s').unwrap_or(other).to_string(),
    }
}

fn scalar_attr(key: &str, v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => {
            if key.ends_with("At") {
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                    return Some(t.timestamp().to_string());
                }
            }
            Some(s.clone())
        }
        _ => None,
    }
}

pub(crate) fn json_to_xml(name: &str, v: &Value) -> El {
    let mut el = El::new(name);
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Object(_) => el.children.push(json_to_xml(k, v)),
                    Value::Array(items) => el.children.push(array_to_xml(k, items)),
                    other => {
                        if let Some(s) = scalar_attr(k, other) {
                            el.attrs.push((k.clone(), s));
                        }
                    }
                }
            }
        }
        Value::Array(items) => return array_to_xml(name, items),
        other => {
            if let Some(s) = scalar_attr(name, other) {
                el.attrs.push(("id".into(), s));
            }
        }
    }
    el
}

fn array_to_xml(name: &str, items: &[Value]) -> El {
    let child = singular(name);
    El::new(name)
        .attr("size", items.len())
        .children(items.iter().map(|i| json_to_xml(&child, i)))
}

// ---------------------------------------------------------------------------------------------
// Error shapes.

/// Whether a v2 request asked for JSON (`Accept` mentions application/json).
pub(crate) fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.to_ascii_lowercase().contains("application/json"))
}

/// v2 error: `{"errors":[{code,message,status}]}` or `<errors><error code message status/>`.
pub(crate) fn v2_error(json: bool, status: u16, code: u32, message: &str) -> Reply {
    if json {
        Reply::json(
            status,
            json!({"errors": [{"code": code, "message": message, "status": status}]}),
        )
    } else {
        Reply::xml(
            status,
            El::new("errors").child(
                El::new("error")
                    .attr("code", code)
                    .attr("message", message)
                    .attr("status", status),
            ),
        )
    }
}

/// Legacy `<Response code="400" status="..."/>`.
pub(crate) fn legacy_response(status: u16, message: &str) -> Reply {
    Reply::xml(
        status,
        El::new("Response")
            .attr("code", status)
            .attr("status", message),
    )
}

/// Legacy 401: `<errors><error>Invalid authentication token.</error></errors>`.
pub(crate) fn legacy_unauthorized() -> Reply {
    Reply::xml(
        401,
        El::new("errors").child(El::new("error").text("Invalid authentication token.")),
    )
}

/// The Rails "page you were looking for doesn't exist" page.
pub(crate) fn html_404() -> Reply {
    Reply::new(404, Body::Html(RAILS_404.to_string()))
}

const RAILS_404: &str = r#"<!DOCTYPE html>
<html>
<head>
  <title>The page you were looking for doesn't exist (404)</title>
  <meta name="viewport" content="width=device-width,initial-scale=1">
  <style>
  body { background-color: #EFEFEF; color: #2E2F30; text-align: center; font-family: arial, sans-serif; margin: 0; }
  div.dialog { width: 95%; max-width: 33em; margin: 4em auto 0; }
  </style>
</head>

<body>
  <!-- This file lives in public/404.html -->
  <div class="dialog">
    <div>
      <h1>The page you were looking for doesn't exist.</h1>
      <p>You may have mistyped the address or the page may have moved.</p>
    </div>
    <p>If you are the application owner check the logs for more information.</p>
  </div>
</body>
</html>
"#;

/// A 5xx as the edge proxy or the app answers it: nginx HTML for 502/503/504, plain text
/// otherwise.
pub(crate) fn server_error(status: u16) -> Reply {
    let reason = match status {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Server Error",
    };
    if matches!(status, 502..=504) {
        Reply::new(
            status,
            Body::Html(format!(
                "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
            )),
        )
    } else {
        Reply::new(status, Body::Text(format!("{status} {reason}\n")))
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

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
pub(crate) fn parse_settings(v: Option<&Value>) -> super::world::SettingsRecord {
    let mut s = super::world::SettingsRecord::reset();
    let Some(Value::Object(map)) = v else {
        return s;
    };
    let flag = |k: &str, d: bool| map.get(k).and_then(lenient_bool).unwrap_or(d);
    s.allow_sync = flag("allowSync", s.allow_sync);
    s.allow_camera_upload = flag("allowCameraUpload", s.allow_camera_upload);
    s.allow_channels = flag("allowChannels", s.allow_channels);
    s.allow_subtitle_admin = flag("allowSubtitleAdmin", s.allow_subtitle_admin);
    s.allow_tuners = match map.get("allowTuners") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0).min(2) as u8,
        Some(Value::String(t)) => t.parse::<u8>().unwrap_or(0).min(2),
        Some(Value::Bool(true)) => 1,
        _ => 0,
    };
    let filter = |k: &str, d: Option<String>| match map.get(k) {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Null) => None,
        _ => d,
    };
    s.filter_movies = filter("filterMovies", s.filter_movies.clone());
    s.filter_music = filter("filterMusic", s.filter_music.clone());
    s.filter_television = filter("filterTelevision", s.filter_television.clone());
    s.filter_photos = filter("filterPhotos", s.filter_photos.clone());
    s.filter_all = filter("filterAll", s.filter_all.clone());
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
