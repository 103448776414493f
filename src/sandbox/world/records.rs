//! The records the simulated plex.tv keeps: accounts, servers and their sections, shares,
//! devices, PINs, and the ids they are numbered by.
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

use std::collections::BTreeSet;

/// First id of each range (see the module docs).
pub const OWNER_ID: u64 = 1_000_001;
/// The first friend or managed user id.
pub const FIRST_ACCOUNT_ID: u64 = 1_000_101;
/// The first plex.tv server id.
pub const FIRST_SERVER_ID: u64 = 8_035_121;
/// Between consecutive server ids.
pub const SERVER_ID_STEP: u64 = 1_117;
/// The first share id.
pub const FIRST_SHARE_ID: u64 = 5_500_001;
/// The first section id.
pub const FIRST_SECTION_ID: u64 = 118_181_361;
/// Between consecutive section ids.
pub const SECTION_ID_STEP: u64 = 4_271;
/// The first PIN id.
pub const FIRST_PIN_ID: u64 = 7_700_000_001;
/// Epoch seconds every scenario's timestamps are based on (2023-11-14T22:13:20Z).
pub const BASE_EPOCH: i64 = 1_700_000_000;

/// A plex.tv account: the owner, a friend, or a managed (home, restricted) user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The account id.
    pub id: u64,
    /// 16 hex characters (avatar URLs use it).
    pub uuid: String,
    /// `None` for managed users.
    pub username: Option<String>,
    /// `None` for managed users.
    pub email: Option<String>,
    /// Display name (a managed user's only name).
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
    /// Epoch seconds.
    pub joined_at: i64,
}

impl AccountRecord {
    /// A managed user: in the Home and restricted.
    pub fn is_managed(&self) -> bool {
        self.restricted && self.home
    }

    /// How `You're already sharing this server with X` names the account.
    pub fn display_name(&self) -> String {
        self.username.clone().unwrap_or_else(|| self.title.clone())
    }

    /// The avatar URL.
    pub fn thumb(&self) -> String {
        format!(
            "https://plex.tv/users/{}/avatar?c={}",
            self.uuid, self.joined_at
        )
    }
}

/// A Plex Media Server registered with plex.tv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRecord {
    /// 40 lowercase hex characters.
    pub machine_id: String,
    /// plex.tv's numeric registration id (`serverId`; never used in URLs).
    pub server_id: u64,
    /// The server's name.
    pub name: String,
    /// Owned by the sandbox owner. A non-owned server belongs to `owner_id` and is shared to
    /// the sandbox owner (all of its libraries).
    pub owned: bool,
    /// The owning account when `owned` is false.
    pub owner_id: Option<u64>,
    /// For a non-owned server: the id of the share that gives the sandbox owner access.
    pub incoming_share_id: Option<u64>,
    /// Its libraries, keys 1..n.
    pub libraries: Vec<SectionRecord>,
    /// Token for talking to this PMS (resources list it).
    pub access_token: String,
    /// PMS version string.
    pub version: String,
    /// Public IP address.
    pub address: String,
    /// LAN IP address.
    pub local_address: String,
    /// PMS port.
    pub port: u16,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds.
    pub updated_at: i64,
}

/// One way to reach a server, as resources list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Connection {
    /// Always `https`.
    pub protocol: &'static str,
    /// The IP address.
    pub address: String,
    /// The port.
    pub port: u16,
    /// The `plex.direct` name of the address (dots become dashes) under the machine id.
    pub uri: String,
    /// On the LAN.
    pub local: bool,
    /// Through Plex's relay.
    pub relay: bool,
}

impl ServerRecord {
    /// The LAN address, the public address and a relay, in that order.
    pub(crate) fn connections(&self) -> Vec<Connection> {
        let direct = |address: &str, port: u16, local: bool, relay: bool| Connection {
            protocol: "https",
            uri: format!(
                "https://{}.{}.plex.direct:{port}",
                address.replace('.', "-"),
                self.machine_id
            ),
            address: address.to_string(),
            port,
            local,
            relay,
        };
        vec![
            direct(&self.local_address, self.port, true, false),
            direct(&self.address, self.port, false, false),
            direct("198.51.100.7", 8443, false, true),
        ]
    }

    /// The section with this (global) id.
    pub fn section(&self, id: u64) -> Option<&SectionRecord> {
        self.libraries.iter().find(|s| s.id == id)
    }

    /// Every section id of this server.
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

/// One library on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRecord {
    /// plex.tv-global id (9 digits): what the sharing APIs take.
    pub id: u64,
    /// Server-local key, 1..n: never accepted by the sharing APIs.
    pub key: u64,
    /// The library's name.
    pub title: String,
    /// movie, show, artist, photo.
    pub kind: String,
}

/// A share's permissions and filters (`sharingSettings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsRecord {
    /// May download media to devices (`allowSync`).
    pub allow_sync: bool,
    /// May upload from a phone's camera (`allowCameraUpload`).
    pub allow_camera_upload: bool,
    /// May use channels/plugins (`allowChannels`).
    pub allow_channels: bool,
    /// May manage subtitles (`allowSubtitleAdmin`).
    pub allow_subtitle_admin: bool,
    /// 0 none, 1 Live TV, 2 Live TV + DVR.
    pub allow_tuners: u8,
    /// Movie libraries' filter (`filterMovies`), a `|`-separated list of clauses.
    pub filter_movies: Option<String>,
    /// Music libraries' filter (`filterMusic`).
    pub filter_music: Option<String>,
    /// TV libraries' filter (`filterTelevision`).
    pub filter_television: Option<String>,
    /// Photo libraries' filter (`filterPhotos`).
    pub filter_photos: Option<String>,
    /// Every library's filter (`filterAll`).
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

    /// The four yes/no permissions by their plex.tv names, in the order plex.tv lists them.
    pub fn permissions(&self) -> [(&'static str, bool); 4] {
        [
            ("allowSync", self.allow_sync),
            ("allowCameraUpload", self.allow_camera_upload),
            ("allowChannels", self.allow_channels),
            ("allowSubtitleAdmin", self.allow_subtitle_admin),
        ]
    }

    /// The same permissions, to set by name.
    pub(crate) fn permissions_mut(&mut self) -> [(&'static str, &mut bool); 4] {
        [
            ("allowSync", &mut self.allow_sync),
            ("allowCameraUpload", &mut self.allow_camera_upload),
            ("allowChannels", &mut self.allow_channels),
            ("allowSubtitleAdmin", &mut self.allow_subtitle_admin),
        ]
    }

    /// The five filters by their plex.tv names, in the order plex.tv lists them.
    pub fn filters(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("filterMovies", &self.filter_movies),
            ("filterMusic", &self.filter_music),
            ("filterTelevision", &self.filter_television),
            ("filterPhotos", &self.filter_photos),
            ("filterAll", &self.filter_all),
        ]
    }

    /// The same filters, to set by name.
    pub(crate) fn filters_mut(&mut self) -> [(&'static str, &mut Option<String>); 5] {
        [
            ("filterMovies", &mut self.filter_movies),
            ("filterMusic", &mut self.filter_music),
            ("filterTelevision", &mut self.filter_television),
            ("filterPhotos", &mut self.filter_photos),
            ("filterAll", &mut self.filter_all),
        ]
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
    /// The owned server it is on.
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
    /// v2 reports in `libraries` (as plex.tv does) and nothing else uses.
    pub section_ids: BTreeSet<u64>,
    /// Permissions and filters.
    pub settings: SettingsRecord,
    /// Epoch seconds.
    pub invited_at: i64,
    /// `None` while pending.
    pub accepted_at: Option<i64>,
    /// The invitee's token for this server.
    pub access_token: String,
    /// The token of the invite link.
    pub invite_token: String,
}

/// A non-server device of the owner (phones, Plex Web): resources must list them too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The device's name.
    pub name: String,
    /// e.g. `Plex Web`.
    pub product: String,
    /// e.g. `Chrome`.
    pub platform: String,
    /// e.g. `client,player`.
    pub provides: String,
    /// The device's `clientIdentifier`.
    pub client_identifier: String,
    /// Its token.
    pub access_token: String,
    /// Epoch seconds.
    pub created_at: i64,
}

/// A PIN created by `POST /api/v2/pins`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRecord {
    /// The PIN id.
    pub id: u64,
    /// What the person enters at plex.tv/link.
    pub code: String,
    /// The `X-Plex-Client-Identifier` that created it; checks must send the same one.
    pub client_identifier: String,
    /// The `X-Plex-Product` that created it.
    pub product: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds; set it in the past (`with_world`) to expire the PIN.
    pub expires_at: i64,
    /// Set once linked (`Sandbox::approve_pin` or `PUT /api/v2/pins/link`).
    pub auth_token: Option<String>,
}

/// How the legacy family misreports one share (see [`World::legacy_drift`](super::World::legacy_drift)).
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
