//! How every v2 route answers: JSON when the request asked for it, else XML; errors as
//! plex.tv's `errors` document.

use serde_json::Value;

use crate::sandbox::request::Req;
use crate::sandbox::wire::{self, Reply};

const NOT_FOUND: &str = "The requested resource or endpoint could not be found";
pub(super) const UNAUTHENTICATED: &str = "User could not be authenticated";

/// One v2 request and the format its answer takes.
pub(super) struct Ctx<'a> {
    /// The request being answered.
    pub req: &'a Req,
    /// Answer in JSON (else XML).
    pub json: bool,
}

impl Ctx<'_> {
    /// A v2 error document.
    pub fn error(&self, status: u16, code: u32, message: &str) -> Reply {
        wire::v2_error(self.json, status, code, message)
    }

    /// 404 code 1002, as for an unrouted path.
    pub fn not_found(&self) -> Reply {
        self.error(404, 1002, NOT_FOUND)
    }

    /// 422 code 2000: the body failed validation.
    pub fn invalid(&self, message: &str) -> Reply {
        self.error(422, 2000, message)
    }

    /// A list, rendered item by item: a JSON array, or XML `<root size=n>` of singular-named
    /// children.
    pub fn doc_list(
        &self,
        status: u16,
        root: &str,
        items: impl IntoIterator<Item = Value>,
    ) -> Reply {
        if self.json {
            let items: Vec<String> = items.into_iter().map(|v| v.to_string()).collect();
            Reply::new(status, wire::Body::JsonList(items))
        } else {
            let child = wire::singular(root);
            let items: Vec<String> = items
                .into_iter()
                .map(|v| wire::rendered(&wire::json_to_xml(&child, &v)))
                .collect();
            Reply::xml_list(status, wire::El::new(root).attr("size", items.len()), items)
        }
    }

    /// A document: JSON, or XML with `root` as the element name.
    pub fn doc(&self, status: u16, root: &str, v: Value) -> Reply {
        if self.json {
            Reply::json(status, v)
        } else {
            Reply::xml(status, wire::json_to_xml(root, &v))
        }
    }
}
