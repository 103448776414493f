//! The simulated plex.tv's state. Deliberately independent of `crate::model`: the sandbox must
//! not share types (or parsing) with the client it tests.

mod records;
mod writes;

use std::collections::{BTreeMap, BTreeSet};

pub use records::*;
pub(crate) use writes::WriteError;

/// Everything the simulated plex.tv knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    /// The account every owner token belongs to.
    pub owner: AccountRecord,
    /// Friends and managed users of the owner, by account id.
    pub accounts: BTreeMap<u64, AccountRecord>,
    /// Every server: the owner's and those shared to the owner.
    pub servers: Vec<ServerRecord>,
    /// Shares of the owner's servers, by share id.
    pub shares: BTreeMap<u64, ShareRecord>,
    /// The owner's devices that are not servers.
    pub devices: Vec<DeviceRecord>,
    /// Valid tokens → account id.
    pub tokens: BTreeMap<String, u64>,
    /// PINs by id.
    pub pins: BTreeMap<u64, PinRecord>,
    /// Failed sign-ins so far; at 5 every sign-in answers 401 code 1031 (reset it to unblock).
    pub signin_failures: u32,
    /// The switch that makes the API families disagree on purpose (`doctor --deep` tests): the
    /// legacy routes show these shares (by share id) differently from the v2 routes, which keep
    /// showing the truth. Writes are unaffected.
    pub legacy_drift: BTreeMap<u64, LegacyDrift>,
    /// Share ids whose v2 reads carry `sharingSettings: null` on the share, as plex.tv's reads
    /// sometimes do; its `invited` then carries different, account-level settings. Legacy
    /// reads keep them.
    pub omit_settings: BTreeSet<u64>,
    /// Share ids whose reads carry incomplete settings: v2 `sharingSettings` without
    /// `allowTuners` and `filterMovies`, legacy `SharedServer` without `filterMovies`.
    pub partial_settings: BTreeSet<u64>,
    /// What a create does with the settings it carries.
    pub created_settings: CreatedSettings,
    /// The legacy PUT answers 404 for a pending share (see `legacy.rs` `update`).
    pub legacy_put_refuses_pending: bool,
    pub(crate) next_share_id: u64,
    pub(crate) next_pin_id: u64,
}

impl World {
    pub(crate) fn empty(owner: AccountRecord) -> World {
        World {
            owner,
            accounts: BTreeMap::new(),
            servers: Vec::new(),
            shares: BTreeMap::new(),
            devices: Vec::new(),
            tokens: BTreeMap::new(),
            pins: BTreeMap::new(),
            signin_failures: 0,
            legacy_drift: BTreeMap::new(),
            omit_settings: BTreeSet::new(),
            partial_settings: BTreeSet::new(),
            created_settings: CreatedSettings::Applied,
            legacy_put_refuses_pending: false,
            next_share_id: FIRST_SHARE_ID,
            next_pin_id: FIRST_PIN_ID,
        }
    }

    /// The share of `machine_id` held by `account_id`, pending or not.
    pub fn share_for(&self, machine_id: &str, account_id: u64) -> Option<&ShareRecord> {
        self.shares
            .values()
            .find(|s| s.machine_id == machine_id && s.account_id == Some(account_id))
    }

    /// The section ids `account_id`'s share on `machine_id` covers (every section of the server
    /// when `all_libraries`); `None` without a share. Pending shares count.
    pub fn visible_section_ids(&self, machine_id: &str, account_id: u64) -> Option<BTreeSet<u64>> {
        let share = self.share_for(machine_id, account_id)?;
        if share.all_libraries {
            Some(self.server(machine_id)?.section_ids())
        } else {
            Some(share.section_ids.clone())
        }
    }

    /// Take away every share of the server named `server` but the first `keep` (by id), as if
    /// plex.tv had lost them (tests of the read guard); returns them for
    /// [`World::restore_shares`].
    pub fn take_shares(&mut self, server: &str, keep: usize) -> Vec<ShareRecord> {
        let Some(mid) = self.server_by_name(server).map(|s| s.machine_id.clone()) else {
            return Vec::new();
        };
        let ids: Vec<u64> = self
            .shares
            .values()
            .filter(|s| s.machine_id == mid)
            .map(|s| s.id)
            .skip(keep)
            .collect();
        ids.iter().filter_map(|id| self.shares.remove(id)).collect()
    }

    /// Put back shares taken by [`World::take_shares`].
    pub fn restore_shares(&mut self, shares: Vec<ShareRecord>) {
        self.shares.extend(shares.into_iter().map(|s| (s.id, s)));
    }

    /// A share as the legacy family shows it: `None` when [`LegacyDrift::Hidden`].
    pub fn legacy_view(&self, share: &ShareRecord) -> Option<ShareRecord> {
        let mut seen = share.clone();
        match self.legacy_drift.get(&share.id) {
            None => {}
            Some(LegacyDrift::Hidden) => return None,
            Some(LegacyDrift::Libraries(ids)) => {
                seen.all_libraries = false;
                seen.section_ids = ids.clone();
            }
            Some(LegacyDrift::AllLibraries) => seen.all_libraries = true,
            Some(LegacyDrift::Pending(pending)) => {
                seen.pending = *pending;
                seen.accepted_at =
                    (!pending).then_some(share.accepted_at.unwrap_or(share.invited_at));
            }
        }
        Some(seen)
    }

    /// Exact name first, then case-insensitive.
    pub fn server_by_name(&self, name: &str) -> Option<&ServerRecord> {
        self.servers.iter().find(|s| s.name == name).or_else(|| {
            self.servers
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
        })
    }

    /// A server by machine id.
    pub fn server(&self, machine_id: &str) -> Option<&ServerRecord> {
        self.servers.iter().find(|s| s.machine_id == machine_id)
    }

    /// A friend or managed user by username, email or title (case-insensitive).
    pub fn account_by_name(&self, name: &str) -> Option<&AccountRecord> {
        let eq = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(name));
        self.accounts
            .values()
            .find(|a| eq(&a.username))
            .or_else(|| self.accounts.values().find(|a| eq(&a.email)))
            .or_else(|| {
                self.accounts
                    .values()
                    .find(|a| a.title.eq_ignore_ascii_case(name))
            })
    }

    /// The owner or a friend/managed user.
    pub fn any_account(&self, id: u64) -> Option<&AccountRecord> {
        if id == self.owner.id {
            Some(&self.owner)
        } else {
            self.accounts.get(&id)
        }
    }

    /// The id of the only section titled exactly `title` on the server named `server`.
    pub fn section_id(&self, server: &str, title: &str) -> Option<u64> {
        Some(self.server_by_name(server)?.section_by_title(title)?.id)
    }

    /// Every share of one server, by share id.
    pub fn shares_on<'a>(
        &'a self,
        machine_id: &'a str,
    ) -> impl Iterator<Item = &'a ShareRecord> + 'a {
        self.shares
            .values()
            .filter(move |s| s.machine_id == machine_id)
    }

    /// Every share with an account, grouped by account (in share id order).
    pub fn shares_by_account(&self) -> std::collections::HashMap<u64, Vec<&ShareRecord>> {
        let mut map: std::collections::HashMap<u64, Vec<&ShareRecord>> =
            std::collections::HashMap::new();
        for s in self.shares.values() {
            if let Some(a) = s.account_id {
                map.entry(a).or_default().push(s);
            }
        }
        map
    }

    /// Allocate a share id (for tests that add shares through `with_world`).
    pub fn next_share_id(&mut self) -> u64 {
        let id = self.next_share_id;
        self.next_share_id += 1;
        id
    }

    pub(crate) fn next_pin_id(&mut self) -> u64 {
        let id = self.next_pin_id;
        self.next_pin_id += 1;
        id
    }

    /// A fresh token for `account_id`, registered.
    pub fn issue_token(&mut self, account_id: u64) -> String {
        let token = random_token();
        self.tokens.insert(token.clone(), account_id);
        token
    }

    /// The owner's first token (one is issued when a sandbox starts).
    pub fn owner_token(&self) -> Option<String> {
        self.tokens
            .iter()
            .find(|(_, id)| **id == self.owner.id)
            .map(|(t, _)| t.clone())
    }
}

/// 20 characters like a real plex.tv token (letters, digits, `-`, `_`).
pub fn random_token() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Deterministic hex of `len` characters from a seed string (machine ids, uuids).
pub(crate) fn hex_from(seed: &str, len: usize) -> String {
    use rand::{Rng, SeedableRng};
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(h);
    (0..len)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}
