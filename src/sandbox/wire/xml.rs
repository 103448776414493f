//! XML as plex.tv writes it: element trees rendered with two-space indents, lists rendered item
//! by item, and v2 documents turned from JSON into lower-camel elements.

use serde_json::Value;

/// An XML element. Attributes keep their insertion order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct El {
    /// Element name.
    pub name: String,
    /// Attributes, in insertion order.
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<El>,
    /// Text content, before the children.
    pub text: Option<String>,
}

impl El {
    /// An element with no attributes or children.
    pub fn new(name: impl Into<String>) -> El {
        El {
            name: name.into(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: None,
        }
    }

    /// With one more attribute.
    pub fn attr(mut self, k: &str, v: impl ToString) -> El {
        self.attrs.push((k.to_string(), v.to_string()));
        self
    }

    /// Legacy booleans: `"1"` / `"0"`.
    pub fn flag(self, k: &str, v: bool) -> El {
        self.attr(k, if v { "1" } else { "0" })
    }

    /// With one more child.
    pub fn child(mut self, c: El) -> El {
        self.children.push(c);
        self
    }

    /// With more children.
    pub fn children(mut self, cs: impl IntoIterator<Item = El>) -> El {
        self.children.extend(cs);
        self
    }

    /// With text content.
    pub fn text(mut self, t: impl Into<String>) -> El {
        self.text = Some(t.into());
        self
    }

    pub(crate) fn open_tag(&self, out: &mut String) {
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

    pub(crate) fn write(&self, out: &mut String, depth: usize) {
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

pub(crate) const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

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
