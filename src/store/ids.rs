//! The record's identifiers: run and grant numbers, and who started a run.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A run's number in the record (what `sharesync runs` and `sharesync undo` take).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for RunId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().trim_start_matches('#').parse().map(RunId)
    }
}

/// A grant row's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GrantId(pub i64);

/// Who or what started a run: `cli:<local user>`, `discord:<user id>`, `schedule:<name>`.
/// Never a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Trigger(String);

impl Trigger {
    /// A run started from the CLI by a local user.
    pub fn cli(user: &str) -> Trigger {
        Trigger(format!("cli:{}", user.trim()))
    }
    /// A run started from Discord by a user id.
    pub fn discord(user_id: u64) -> Trigger {
        Trigger(format!("discord:{user_id}"))
    }
    /// A run started by a schedule.
    pub fn schedule(name: &str) -> Trigger {
        Trigger(format!("schedule:{}", name.trim()))
    }
    /// A label read back from the record.
    pub fn parse(stored: &str) -> Trigger {
        Trigger(stored.to_string())
    }
    /// Any other `kind:who` label (tests, tools).
    pub fn other(kind: &str, who: &str) -> Trigger {
        Trigger(format!("{}:{}", kind.trim(), who.trim()))
    }
    /// The label as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// plex.tv ids are u64; SQLite stores i64 (the bits, unchanged).
pub(super) fn id_i64(v: u64) -> i64 {
    v as i64
}

pub(super) fn id_u64(v: i64) -> u64 {
    v as u64
}
