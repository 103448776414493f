//! The simulated plex.tv's state. Deliberately independent of `crate::model`: the sandbox must
//! not share types (or parsing) with the client it tests.
//!
//! Number ranges are disjoint so that any mix-up between kinds of id fails loudly:
//!
//! | what                    | range                         |
//! |-------------------------|-------------------------------|
//! | account ids (owner too) | 1 000 001 ..                  |
//! | plex.tv server ids      | 8 035 121 .. (step 1 117)     |
//! | share (shared-server) ids | 5 500 001 ..                |
//! | section ids             | 118 181 361 .. (9 digits, step 4 271) |
//! | section keys            | 1 ..= n per server            |
//! | PIN ids                 | 7 700 000 001 ..              |

use std::collections::{BTreeMap, BTreeSet};

/// First id of each range (see the module docs).
pub const OWNER_ID: u64 = 1_000_001;
pub const FIRST_ACCOUNT_ID: u64 = 1_000_101;
pub const FIRST_SERVER_ID: u64 = 8_035_121;
pub const SERVER_ID_STEP: u64 = 1_117;
pub const FIRST_SHARE_ID: u64 = 5_500_001;
pub const FIRST_SECTION_ID: u64 = 118_181_361;
pub const SECTION_ID_STEP: u64 = 4_271;
pub const FIRST_PIN_ID: u64 = 7_700_000_001;
/// Epoch seconds every scenario's timestamps are based on (2023-11-14T22:13:20Z).
pub const BASE_EPOCH: i64 = 1_700_000_000;

/// A plex.tv account: the owner, a friend, or a managed (home, restricted) user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: u64,
    /// 16 hex characters (avatar URLs use it).
    pub uuid: String,
    /// `None` for managed users.
    pub username: Option<String>,
    /// `None` for managed users.
    pub email: Option<String>,
    pub title: String,
    /// `None`: cannot sign in with a password.
    pub password: Option<String>,
    /// Two-factor: the one verification code sign-in accepts (a fixed code, not a TOTP secret).
    pub totp: Option<String>,
    /// Member of the owner's Plex Home.
    pub home: bool,
    /// Managed user (home + restricted, no username/email).
    pub restricted: bool,
    /// `little_kid`, `older_kid`, `teen` or none.
    pub restriction_profile: Option<String>,
    pub joined_at: i64,
}

impl AccountRecord {
    pub fn is_managed(&self) -> bool {
        self.restricted && self.home
    }

    /// How `You're already sharing this server with X` names the account.
    pub fn display_name(&self) -> String {
        self.username.clone().unwrap_or_else(|| self.title.clone())
    }

    pub fn thumb(&self) -> String {
        format!(
            "https://plex.tv/users/{}/avatar?c={}",
            self.uuid, self.joined_at
        )
    }
}

/// One library on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRecord {
    /// plex.tv-global id (9 digits): what the sharing APIs take.
    pub id: u64,
    /// Server-local key, 1..n: never accepted by the sharing APIs.
    pub key: u64,
    pub title: String,
    /// movie, show, artist, photo.
    pub kind: String,
}

/// A Plex Media Server registered with plex.tv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRecord {
    /// 40 lowercase hex characters.
    pub machine_id: String,
    /// plex.tv's numeric registration id (`serverId`; never used in URLs).
    pub server_id: u64,
    pub name: String,
    /// Owned by the sandbox owner. A non-owned server belongs to `owner_id` and is shared to
    /// the sandbox owner (all of its libraries).
    pub owned: bool,
    /// The owning account when `owned` is false.
    pub owner_id: Option<u64>,
    /// For a non-owned server: the id of the share that gives the sandbox owner access.
    pub incoming_share_id: Option<u64>,
    pub libraries: Vec<SectionRecord>,
    /// Token for talking to this PMS (resources list it).
    pub access_token: String,
    pub version: String,
    pub address: String,
    pub local_address: String,
    pub port: u16,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ServerRecord {
    pub fn section(&self, id: u64) -> Option<&SectionRecord> {
        self.libraries.iter().find(|s| s.id == id)
    }

    pub fn section_ids(&self) -> BTreeSet<u64> {
        self.libraries.iter().map(|s| s.id).collect()
    }

    /// The only section with exactly this title.
    pub fn section_by_title(&self, title: &str) -> Option<&SectionRecord> {
        let mut found = self.libraries.iter().filter(|s| s.title == title);
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }
}

/// A share's permissions and filters (`sharingSettings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsRecord {
    pub allow_sync: bool,
    pub allow_camera_upload: bool,
    pub allow_channels: bool,
    pub allow_subtitle_admin: bool,
    /// 0 none, 1 Live TV, 2 Live TV + DVR.
    pub allow_tuners: u8,
    pub filter_movies: Option<String>,
    pub filter_music: Option<String>,
    pub filter_television: Option<String>,
    pub filter_photos: Option<String>,
    pub filter_all: Option<String>,
}

impl SettingsRecord {
    /// What a v2 update that omits `settings` leaves behind (plex.tv replaces them wholesale).
    pub fn reset() -> SettingsRecord {
        SettingsRecord {
            filter_movies: Some(String::new()),
            filter_music: Some(String::new()),
            filter_television: Some(String::new()),
            ..SettingsRecord::default()
        }
    }
}

/// What a create does with the settings it carries, so a client's check of a new share can be
/// tested against a plex.tv that does not do as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreatedSettings {
    /// Applied as sent.
    #[default]
    Applied,
    /// Ignored: the new share gets plex.tv's defaults.
    Ignored,
    /// Applied, but reads of the new share carry them incomplete (`World::partial_settings`).
    Partial,
}

/// One (owned server, invitee) share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRecord {
    /// The shared-server id (`User>Server@id`, `SharedServer@id`, v2 `id`).
    pub id: u64,
    pub machine_id: String,
    /// `None` for an invite to an address that has no plex.tv account.
    pub account_id: Option<u64>,
    /// The address or username the invite went to (email invites only).
    pub invited_email: Option<String>,
    /// Invite not yet accepted.
    pub pending: bool,
    /// Every library, including ones added later.
    pub all_libraries: bool,
    /// The explicit list. When `all_libraries` is set this may still hold a stale list, which
    /// v2 reports in `libraries` (as plex.tv does; see plex-tv-api.md §9) and nothing else uses.
    pub section_ids: BTreeSet<u64>,
    pub settings: SettingsRecord,
    pub invited_at: i64,
    /// `None` while pending.
    pub accepted_at: Option<i64>,
    /// The invitee's token for this server.
    pub access_token: String,
    pub invite_token: String,
}

/// A non-server device of the owner (phones, Plex Web): resources must list them too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub name: String,
    pub product: String,
    pub platform: String,
    /// e.g. `client,player`.
    pub provides: String,
    pub client_identifier: String,
    pub access_token: String,
    pub created_at: i64,
}

/// A PIN created by `POST /api/v2/pins`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRecord {
    pub id: u64,
    pub code: String,
    /// The `X-Plex-Client-Identifier` that created it; checks must send the same one.
    pub client_identifier: String,
    pub product: String,
    pub created_at: i64,
    /// Epoch seconds; set it in the past (`with_world`) to expire the PIN.
    pub expires_at: i64,
    /// Set once linked (`Sandbox::approve_pin` or `PUT /api/v2/pins/link`).
    pub auth_token: Option<String>,
}

/// How the legacy family misreports one share (see [`World::legacy_drift`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyDrift {
    /// Legacy lists do not show the share at all.
    Hidden,
    /// Legacy shows this explicit list of section ids (and not all libraries).
    Libraries(BTreeSet<u64>),
    /// Legacy shows all libraries.
    AllLibraries,
    /// Legacy shows the share as pending (`true`) or accepted (`false`).
    Pending(bool),
}

/// Everything the simulated plex.tv knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    pub owner: AccountRecord,
    /// Friends and managed users of the owner, by account id.
    pub accounts: BTreeMap<u64, AccountRecord>,
    pub servers: Vec<ServerRecord>,
    /// Shares of the owner's servers, by share id.
    pub shares: BTreeMap<u64, ShareRecord>,
    pub devices: Vec<DeviceRecord>,
    /// Valid tokens → account id.
    pub tokens: BTreeMap<String, u64>,
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

/// Why a share write was refused (the routes choose the status and shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteError {
    UnknownSections(Vec<u64>),
    Duplicate(String),
    UnknownInvitee(String),
    SelfShare,
    /// A label filter for a managed user with a restriction profile.
    LabelsRefused(String),
}

/// The label clauses of a share's filters (`label=`/`label!=`), to tell whether a write changes
/// them.
fn label_clauses(s: &SettingsRecord) -> BTreeSet<String> {
    [
        &s.filter_movies,
        &s.filter_television,
        &s.filter_music,
        &s.filter_photos,
        &s.filter_all,
    ]
    .iter()
    .enumerate()
    .flat_map(|(i, f)| {
        f.as_deref()
            .unwrap_or("")
            .split('|')
            .filter(|c| c.trim_start().starts_with("label"))
            .map(move |c| format!("{i}:{}", c.trim()))
            .collect::<Vec<_>>()
    })
    .collect()
}

impl World {
    /// The owner's server with this machine id.
    pub(crate) fn owned_server(&self, machine_id: &str) -> Option<&ServerRecord> {
        self.server(machine_id).filter(|s| s.owned)
    }

    /// A friend or managed user matching a username or email (what `invited_email` takes).
    pub(crate) fn invitee_by_login(&self, login: &str) -> Option<u64> {
        let login = login.trim();
        let eq = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(login));
        self.accounts
            .values()
            .find(|a| eq(&a.username) || eq(&a.email))
            .map(|a| a.id)
    }

    /// Ids that are not sections of `machine_id`.
    pub(crate) fn unknown_sections(&self, machine_id: &str, ids: &[u64]) -> Vec<u64> {
        let known = self
            .server(machine_id)
            .map(|s| s.section_ids())
            .unwrap_or_default();
        ids.iter()
            .copied()
            .filter(|id| !known.contains(id))
            .collect()
    }

    /// Create a share. `ids` empty = all libraries. An invite by login of a known account is
    /// accepted at once (friends and managed users already have a relationship with the owner);
    /// an address nobody has is a pending invite.
    pub(crate) fn create_share(
        &mut self,
        machine_id: &str,
        invited_id: Option<u64>,
        invited_email: Option<&str>,
        ids: &[u64],
        settings: SettingsRecord,
        now: i64,
    ) -> Result<u64, WriteError> {
        let unknown = self.unknown_sections(machine_id, ids);
        if !unknown.is_empty() {
            return Err(WriteError::UnknownSections(unknown));
        }
        let account_id = match (invited_id, invited_email) {
            (Some(id), _) if id == self.owner.id => return Err(WriteError::SelfShare),
            (Some(id), _) => Some(
                self.accounts
                    .get(&id)
                    .map(|a| a.id)
                    .ok_or_else(|| WriteError::UnknownInvitee(id.to_string()))?,
            ),
            (None, Some(login)) => {
                let owner = &self.owner;
                let is_owner = [&owner.username, &owner.email].iter().any(|v| {
                    v.as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case(login.trim()))
                });
                if is_owner {
                    return Err(WriteError::SelfShare);
                }
                self.invitee_by_login(login)
            }
            (None, None) => return Err(WriteError::UnknownInvitee(String::new())),
        };
        let email = invited_email.map(|e| e.trim().to_string());
        let duplicate = self.shares_on(machine_id).find(|s| match account_id {
            Some(id) => s.account_id == Some(id),
            None => {
                s.account_id.is_none()
                    && s.invited_email.as_deref().map(str::to_lowercase)
                        == email.as_deref().map(str::to_lowercase)
            }
        });
        if let Some(existing) = duplicate {
            let name = match existing.account_id.and_then(|id| self.accounts.get(&id)) {
                Some(a) => a.display_name(),
                None => existing.invited_email.clone().unwrap_or_default(),
            };
            return Err(WriteError::Duplicate(name));
        }
        self.check_labels(account_id, None, &settings)?;
        let id = self.next_share_id();
        let pending = account_id.is_none();
        let settings = match self.created_settings {
            CreatedSettings::Ignored => SettingsRecord::reset(),
            CreatedSettings::Applied | CreatedSettings::Partial => settings,
        };
        if self.created_settings == CreatedSettings::Partial {
            self.partial_settings.insert(id);
        }
        self.shares.insert(
            id,
            ShareRecord {
                id,
                machine_id: machine_id.to_string(),
                account_id,
                invited_email: email,
                pending,
                all_libraries: ids.is_empty(),
                section_ids: ids.iter().copied().collect(),
                settings,
                invited_at: now,
                accepted_at: (!pending).then_some(now),
                access_token: random_token(),
                invite_token: random_token(),
            },
        );
        Ok(id)
    }

    /// plex.tv is reported to refuse label-filter changes for a managed user with a
    /// restriction profile: the profile owns that user's filters. The
    /// sandbox refuses any write that would give such a user label clauses it does not
    /// already have, on create and on a v2 update (the legacy PUT carries no settings).
    pub(crate) fn check_labels(
        &self,
        account_id: Option<u64>,
        before: Option<&SettingsRecord>,
        after: &SettingsRecord,
    ) -> Result<(), WriteError> {
        let Some(account) = account_id.and_then(|id| self.accounts.get(&id)) else {
            return Ok(());
        };
        if !account.is_managed() || account.restriction_profile.is_none() {
            return Ok(());
        }
        let had = before.map(label_clauses).unwrap_or_default();
        if label_clauses(after) == had {
            return Ok(());
        }
        Err(WriteError::LabelsRefused(account.display_name()))
    }

    /// Replace a share's sections. An empty list makes it an all-libraries share (the sandbox's
    /// choice: real plex.tv's answer to an empty update is unverified, clients must not send one).
    pub(crate) fn replace_sections(
        &mut self,
        share_id: u64,
        ids: &[u64],
    ) -> Result<(), WriteError> {
        let Some(mid) = self.shares.get(&share_id).map(|s| s.machine_id.clone()) else {
            return Err(WriteError::UnknownInvitee(share_id.to_string()));
        };
        let unknown = self.unknown_sections(&mid, ids);
        if !unknown.is_empty() {
            return Err(WriteError::UnknownSections(unknown));
        }
        if let Some(share) = self.shares.get_mut(&share_id) {
            share.all_libraries = ids.is_empty();
            share.section_ids = ids.iter().copied().collect();
        }
        Ok(())
    }
}
