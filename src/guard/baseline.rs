//! A read that looks wrong stops the run. plex.tv has answered short lists, empty catalogues and
//! vanished fields to every tool in this space; planning from such a read would grant wrongly or
//! create shares for everyone. So the size of each server's last good read (accounts with access,
//! shares, libraries) is kept in the store; a new read far below it is read once more, and if it
//! still looks wrong nothing is planned from it. An admin who knows the change is real accepts
//! it, and that read becomes the new baseline. A read that passes only raises the baseline; it
//! goes down after an apply (from the read the run acts on), an undo, or an accept.

use std::fmt;

use crate::model::{ServerRef, SharingState};
use crate::plex::{PlexClient, PlexError};
use crate::store::{Store, StoreError, Trigger};

pub use crate::store::{Baseline, ReadSize};

/// One number that fell too far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drop {
    /// "shares", "accounts with access" or "libraries".
    pub what: &'static str,
    /// At the last good read.
    pub before: usize,
    /// In this read.
    pub now: usize,
}

impl fmt::Display for Drop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} at the last good read, {} now",
            self.before, self.what, self.now
        )
    }
}

/// Share and account counts may fall by at most a third between two reads (from this many up;
/// below it one or two people leaving is not a pattern).
pub const DROP_FROM: usize = 3;

/// How `now` looks against `before`: every number that fell too far. Empty: it looks fine.
/// Shares or accounts with access down by more than a third, or the catalogue empty or down
/// by more than half, look wrong. Growth never does (sharesync's own runs add shares).
pub fn drops(before: &ReadSize, now: &ReadSize) -> Vec<Drop> {
    let mut out = Vec::new();
    for (what, b, n) in [
        ("shares", before.shares, now.shares),
        ("accounts with access", before.accounts, now.accounts),
    ] {
        if b >= DROP_FROM && n * 3 < b * 2 {
            out.push(Drop {
                what,
                before: b,
                now: n,
            });
        }
    }
    let (b, n) = (before.libraries, now.libraries);
    if b > 0 && (n == 0 || n * 2 < b) {
        out.push(Drop {
            what: "libraries",
            before: b,
            now: n,
        });
    }
    out
}

/// One server whose read looks wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspectServer {
    /// The server.
    pub server: ServerRef,
    /// Its last good read.
    pub baseline: Baseline,
    /// This read.
    pub now: ReadSize,
    /// Never empty.
    pub drops: Vec<Drop>,
}

impl fmt::Display for SuspectServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let drops: Vec<String> = self.drops.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{}: {} ({}",
            self.server.name,
            drops.join(", "),
            self.baseline.recorded_at.format("%Y-%m-%d %H:%M UTC")
        )?;
        match &self.baseline.accepted_by {
            Some(by) => write!(f, ", accepted by {by})"),
            None => write!(f, ")"),
        }
    }
}

/// Both reads (the first and the one re-read) looked wrong; nothing was planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} — plex.tv may be answering wrongly; run `sharesync doctor --deep`", self.what())]
pub struct ReadLooksWrong {
    /// Servers far below their last good read (an admin may accept those).
    pub servers: Vec<SuspectServer>,
    /// Or: the client's own checks found the read incomplete each time it read (an empty
    /// catalogue on a server with shares, a share naming a library the catalogue lacks).
    /// Nothing to accept: plex.tv has to answer whole again.
    pub incomplete: Option<String>,
}

impl ReadLooksWrong {
    fn what(&self) -> String {
        let mut parts: Vec<String> = self.servers.iter().map(ToString::to_string).collect();
        parts.extend(self.incomplete.clone());
        parts.join("; ")
    }

    /// What is wrong, without the numbers: the servers and which measures dropped, or that
    /// the read was incomplete. A schedule posts a refusal once per key, however the numbers
    /// of a bad answer vary between occurrences.
    pub fn key(&self) -> String {
        let mut parts: Vec<String> = self
            .servers
            .iter()
            .map(|s| {
                let whats: Vec<&str> = s.drops.iter().map(|d| d.what).collect();
                format!("{}: {}", s.server.machine_id.0, whats.join(", "))
            })
            .collect();
        if self.incomplete.is_some() {
            parts.push("incomplete".into());
        }
        parts.join("; ")
    }

    /// The refusal of `state` if a server of it is far below its stored baseline.
    pub fn against(store: &Store, state: &SharingState) -> Result<Option<Self>, StoreError> {
        let servers = suspects(store, state)?;
        Ok((!servers.is_empty()).then_some(ReadLooksWrong {
            servers,
            incomplete: None,
        }))
    }

    /// Whether accepting the read as a new baseline would let the next run plan.
    pub fn acceptable(&self) -> bool {
        self.incomplete.is_none() && !self.servers.is_empty()
    }
}

/// Why a read held to the baselines gave nothing to plan from.
#[derive(Debug, thiserror::Error)]
pub enum GuardedReadError {
    /// plex.tv failed.
    #[error(transparent)]
    Plex(#[from] PlexError),
    /// The record failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The read looks wrong.
    #[error(transparent)]
    LooksWrong(#[from] ReadLooksWrong),
}

/// Whether a read is held to the baselines, or is an admin's acknowledgement of a real change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baselines<'a> {
    /// Hold the read to the baselines.
    Check,
    /// Take this read as the new baseline whatever it looks like (accepted by this trigger).
    Accept(&'a Trigger),
}

/// The servers of `state` whose read looks wrong against their stored baselines.
pub fn suspects(store: &Store, state: &SharingState) -> Result<Vec<SuspectServer>, StoreError> {
    let mut out = Vec::new();
    for sharing in [&state.source, &state.dest] {
        let Some(baseline) = store.read_baseline(&sharing.server.machine_id)? else {
            continue; // first read of this server: nothing to compare with
        };
        let now = ReadSize::of(sharing);
        let drops = drops(&baseline.size, &now);
        if !drops.is_empty() {
            out.push(SuspectServer {
                server: sharing.server.reference(),
                baseline,
                now,
                drops,
            });
        }
    }
    Ok(out)
}

/// Record both servers of `state` as their last good read (after an apply or an accept: the
/// baseline may go down only here).
pub fn record(
    store: &Store,
    state: &SharingState,
    accepted_by: Option<&Trigger>,
) -> Result<(), StoreError> {
    for sharing in [&state.source, &state.dest] {
        store.record_baseline(
            &sharing.server.reference(),
            &ReadSize::of(sharing),
            accepted_by.map(Trigger::as_str),
        )?;
    }
    Ok(())
}

/// Raise both servers' baselines to `state` where it is larger (a read that passed). It never
/// lowers them: reads that each pass by a little would otherwise walk the baseline down a slow
/// decline unnoticed.
fn raise(store: &Store, state: &SharingState) -> Result<(), StoreError> {
    for sharing in [&state.source, &state.dest] {
        let now = ReadSize::of(sharing);
        let (size, accepted_by) = match store.read_baseline(&sharing.server.machine_id)? {
            Some(before) => (
                ReadSize {
                    accounts: before.size.accounts.max(now.accounts),
                    shares: before.size.shares.max(now.shares),
                    libraries: before.size.libraries.max(now.libraries),
                },
                before.accepted_by,
            ),
            None => (now, None),
        };
        store.record_baseline(&sharing.server.reference(), &size, accepted_by.as_deref())?;
    }
    Ok(())
}

/// Read both servers for planning, held to their baselines: a read that looks wrong is read
/// once more; if it still does, [`ReadLooksWrong`]. A read that passes raises the baselines
/// where it is larger; an accepted read becomes them.
pub async fn read_sharing_checked(
    client: &PlexClient,
    store: &Store,
    source: &ServerRef,
    dest: &ServerRef,
    mode: Baselines<'_>,
) -> Result<SharingState, GuardedReadError> {
    // The client has already read again when it found a read incomplete.
    let read = || async {
        client
            .read_sharing(source, dest)
            .await
            .map_err(|e| match e {
                PlexError::Incomplete(why) => GuardedReadError::LooksWrong(ReadLooksWrong {
                    servers: vec![],
                    incomplete: Some(why),
                }),
                e => e.into(),
            })
    };
    let mut state = read().await?;
    if let Baselines::Accept(by) = mode {
        record(store, &state, Some(by))?;
        return Ok(state);
    }
    if ReadLooksWrong::against(store, &state)?.is_some() {
        tracing::warn!("a read looks wrong against the last good one; reading again");
        state = read().await?;
        if let Some(wrong) = ReadLooksWrong::against(store, &state)? {
            return Err(wrong.into());
        }
    }
    raise(store, &state)?;
    Ok(state)
}

/// An admin's acknowledgement that `server` really changed (`by`; `None`: an undo's own
/// record): read it now and make that read its baseline, whatever it looks like.
pub async fn accept_server(
    client: &PlexClient,
    store: &Store,
    server: &ServerRef,
    by: Option<&Trigger>,
) -> Result<ReadSize, GuardedReadError> {
    let (_, sharing) = client.read_server_sharing(server).await?;
    let size = ReadSize::of(&sharing);
    store.record_baseline(&sharing.server.reference(), &size, by.map(Trigger::as_str))?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(accounts: usize, shares: usize, libraries: usize) -> ReadSize {
        ReadSize {
            accounts,
            shares,
            libraries,
        }
    }

    fn whats(before: ReadSize, now: ReadSize) -> Vec<&'static str> {
        drops(&before, &now).iter().map(|d| d.what).collect()
    }

    #[test]
    fn a_drop_of_more_than_a_third_looks_wrong_and_growth_never_does() {
        let before = size(400, 412, 8);
        assert!(
            whats(before, size(275, 275, 8)).is_empty(),
            "exactly a third"
        );
        assert_eq!(
            whats(before, size(3, 3, 8)),
            ["shares", "accounts with access"]
        );
        assert_eq!(
            drops(&before, &size(400, 3, 8))[0].to_string(),
            "412 shares at the last good read, 3 now"
        );
        assert!(whats(before, size(900, 900, 30)).is_empty());
        // Two of two friends leaving is not a pattern; three of three is.
        assert!(whats(size(2, 2, 4), size(0, 0, 4)).is_empty());
        assert_eq!(whats(size(3, 3, 4), size(1, 1, 4)).len(), 2);
    }

    #[test]
    fn an_empty_or_mostly_lost_catalogue_looks_wrong() {
        assert_eq!(whats(size(5, 5, 1), size(5, 5, 0)), ["libraries"]);
        assert_eq!(whats(size(5, 5, 8), size(5, 5, 3)), ["libraries"]);
        assert!(
            whats(size(5, 5, 8), size(5, 5, 4)).is_empty(),
            "half is not most"
        );
        assert!(whats(size(0, 0, 0), size(0, 0, 0)).is_empty());
    }
}
