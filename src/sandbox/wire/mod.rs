//! Rendering: responses (XML, JSON, HTML, text), plex.tv's error shapes (v2 `errors`, legacy
//! `<Response>` and `<errors>`, Rails' 404 page, nginx's 5xx pages), and the mangled bodies
//! faults produce.

mod parse;
mod xml;

use serde_json::{json, Value};

pub(crate) use parse::{parse_account_id, parse_ids, parse_settings};
pub(crate) use xml::{json_to_xml, rendered, singular, El};
use xml::{xml_doc, xml_truncated, XML_DECL};

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
    /// HTTP status.
    pub status: u16,
    /// Extra headers (the content type is added from the body).
    pub headers: Vec<(String, String)>,
    /// What it says.
    pub body: Body,
}

impl Reply {
    /// A reply with no extra headers.
    pub fn new(status: u16, body: Body) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// An XML document.
    pub fn xml(status: u16, root: El) -> Reply {
        Reply::new(status, Body::Xml(Box::new(root)))
    }

    /// An XML list rendered item by item.
    pub fn xml_list(status: u16, root: El, items: Vec<String>) -> Reply {
        Reply::new(status, Body::XmlList(Box::new(root), items))
    }

    /// A JSON document.
    pub fn json(status: u16, v: Value) -> Reply {
        Reply::new(status, Body::Json(v))
    }

    /// With one more header.
    pub fn header(mut self, k: &str, v: impl ToString) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    /// The `Content-Type` its body takes, if it has one.
    pub fn content_type(&self) -> Option<&'static str> {
        match self.body {
            Body::Empty => None,
            Body::Xml(_) | Body::XmlList(..) => Some("application/xml; charset=utf-8"),
            Body::Json(_) | Body::JsonList(_) => Some("application/json; charset=utf-8"),
            Body::Html(_) => Some("text/html; charset=utf-8"),
            Body::Text(_) => Some("text/plain; charset=utf-8"),
        }
    }

    /// The body as sent.
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
