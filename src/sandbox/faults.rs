//! Injected faults: a FIFO queue; each request takes the first fault that matches it, and
//! that fault loses one of its `times`.

use std::collections::VecDeque;
use std::time::Duration;

/// A fault to inject into the next `times` matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Which requests it applies to.
    pub target: FaultTarget,
    /// What it does to them.
    pub kind: FaultKind,
    /// How many more requests it applies to.
    pub times: usize,
}

impl Fault {
    /// Once, on any request.
    pub fn once(kind: FaultKind) -> Fault {
        Fault {
            target: FaultTarget::Any,
            kind,
            times: 1,
        }
    }

    /// `times` times, on requests matching `target`.
    pub fn new(target: FaultTarget, kind: FaultKind, times: usize) -> Fault {
        Fault {
            target,
            kind,
            times,
        }
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultTarget {
    /// Every request.
    Any,
    /// GET (and HEAD).
    Reads,
    /// POST, PUT, PATCH, DELETE.
    Writes,
    /// The path (not the query) contains this string.
    PathContains(String),
    /// A write whose path contains this string (one share's updates, not its reads).
    WritesTo(String),
}

/// What happens to a faulted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 without touching state. v2 paths get an error document (JSON or XML per `Accept`,
    /// code 1003), legacy paths an empty body; `Retry-After: <secs>` only when given.
    RateLimit {
        /// The `Retry-After` header's seconds, if any.
        retry_after_secs: Option<u64>,
    },
    /// This status without touching state: 502/503/504 with nginx's HTML page, others plain text.
    ServerError(u16),
    /// The request is processed at once (a write lands), the answer comes this much later.
    Delay(Duration),
    /// The request is processed (a write lands); the answer is 200 with a body cut mid-token
    /// and followed by junk.
    MalformedBody,
    /// The request is processed (a write lands); the answer is 200 with a cut list: the root's
    /// opening tag (its `size` unchanged) and the first half of its children with no closing tag
    /// (XML), or `[` and the first half of the elements with no `]` (JSON).
    TruncatedBody,
    /// `GET /api/servers/{mid}` and `GET /api/v2/servers/{mid}` list no sections, as plex.tv
    /// transiently does for a healthy server, without an error. Only those requests match.
    EmptyCatalogue,
    /// The connection is closed without an HTTP response. State is not touched.
    DropConnection,
}

impl FaultTarget {
    fn matches(&self, method: &str, path: &str) -> bool {
        match self {
            FaultTarget::Any => true,
            FaultTarget::Reads => matches!(method, "GET" | "HEAD"),
            FaultTarget::Writes => matches!(method, "POST" | "PUT" | "PATCH" | "DELETE"),
            FaultTarget::PathContains(s) => path.contains(s.as_str()),
            FaultTarget::WritesTo(s) => {
                FaultTarget::Writes.matches(method, path) && path.contains(s.as_str())
            }
        }
    }
}

/// `GET /api/servers/{mid}` or `GET /api/v2/servers/{mid}`.
pub(crate) fn is_catalogue(method: &str, path: &str) -> bool {
    if method != "GET" {
        return false;
    }
    let path = path.trim_end_matches('/');
    let rest = path
        .strip_prefix("/api/v2/servers/")
        .or_else(|| path.strip_prefix("/api/servers/"));
    rest.is_some_and(|mid| !mid.is_empty() && !mid.contains('/'))
}

impl FaultKind {
    fn applies(&self, method: &str, path: &str) -> bool {
        match self {
            FaultKind::EmptyCatalogue => is_catalogue(method, path),
            _ => true,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    queue: VecDeque<Fault>,
}

impl FaultQueue {
    /// Queue a fault (one with `times == 0` is dropped).
    pub fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.queue.push_back(fault);
        }
    }

    /// The fault this request gets, if any (consuming one of its `times`).
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let i = self
            .queue
            .iter()
            .position(|f| f.target.matches(method, path) && f.kind.applies(method, path))?;
        let f = &mut self.queue[i];
        f.times -= 1;
        let kind = f.kind.clone();
        if f.times == 0 {
            self.queue.remove(i);
        }
        Some(kind)
    }

    /// Faults not yet used up, in queue order.
    pub fn remaining(&self) -> Vec<Fault> {
        self.queue.iter().cloned().collect()
    }

    /// Drop every queued fault.
    pub fn clear(&mut self) {
        self.queue.clear();
    }
}
