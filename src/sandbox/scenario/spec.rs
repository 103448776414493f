//! The scenario format: what `config/sandbox-scenario.toml` (the commented reference) and the
//! builder write, before ids are allocated and names resolved.

use serde::Deserialize;

use crate::sandbox::world::SettingsRecord;

// ---------------------------------------------------------------------------------------------
// The TOML format (see config/sandbox-scenario.toml for the commented reference).

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioSpec {
    pub(super) owner: OwnerSpec,
    #[serde(default, rename = "server")]
    pub(super) servers: Vec<ServerSpec>,
    #[serde(default, rename = "account")]
    pub(super) accounts: Vec<AccountSpec>,
    #[serde(default, rename = "share")]
    pub(super) shares: Vec<ShareSpec>,
    #[serde(default, rename = "device")]
    pub(super) devices: Vec<DeviceSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OwnerSpec {
    pub(super) username: String,
    pub(super) email: Option<String>,
    pub(super) title: Option<String>,
    pub(super) password: Option<String>,
    pub(super) totp: Option<String>,
    pub(super) id: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ServerSpec {
    pub(super) name: String,
    pub(super) machine_id: Option<String>,
    pub(super) server_id: Option<u64>,
    /// An account handle: the server belongs to that friend and is shared to the owner.
    pub(super) owner: Option<String>,
    #[serde(default)]
    pub(super) libraries: Vec<LibrarySpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LibrarySpec {
    pub(super) title: String,
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) id: Option<u64>,
    pub(super) key: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccountSpec {
    pub(super) username: Option<String>,
    pub(super) email: Option<String>,
    pub(super) title: Option<String>,
    #[serde(default)]
    pub(super) managed: bool,
    pub(super) restriction_profile: Option<String>,
    pub(super) id: Option<u64>,
    pub(super) password: Option<String>,
    pub(super) totp: Option<String>,
}

impl AccountSpec {
    pub(super) fn handle(&self) -> Option<&str> {
        self.username.as_deref().or(self.title.as_deref())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShareSpec {
    pub(super) server: String,
    pub(super) account: Option<String>,
    pub(super) invited_email: Option<String>,
    pub(super) libraries: LibrariesSpec,
    #[serde(default)]
    pub(super) stale_libraries: Vec<LibraryRef>,
    pub(super) pending: Option<bool>,
    #[serde(default)]
    pub(super) settings: SettingsSpec,
    /// v2 reads leave this share's `sharingSettings` out (see `World::omit_settings`).
    #[serde(default)]
    pub(super) omit_settings: bool,
    /// Reads carry this share's settings incomplete (see `World::partial_settings`).
    #[serde(default)]
    pub(super) partial_settings: bool,
    pub(super) id: Option<u64>,
    pub(super) invited_at: Option<i64>,
    pub(super) accepted_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "\"all\" or a list of library titles (strings) or keys (integers)"
)]
pub(super) enum LibrariesSpec {
    Word(String),
    List(Vec<LibraryRef>),
}

/// A library of one server, by exact title or by section key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    untagged,
    expecting = "a library title (string) or section key (integer)"
)]
pub enum LibraryRef {
    /// By section key (1..n on its server).
    Key(u64),
    /// By exact title.
    Title(String),
}

impl From<&str> for LibraryRef {
    fn from(s: &str) -> Self {
        LibraryRef::Title(s.to_string())
    }
}

impl From<String> for LibraryRef {
    fn from(s: String) -> Self {
        LibraryRef::Title(s)
    }
}

impl From<u64> for LibraryRef {
    fn from(k: u64) -> Self {
        LibraryRef::Key(k)
    }
}

/// `sharingSettings`, with plex.tv's own (camelCase) names; absent fields take defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SettingsSpec {
    /// `allowSync` (default off).
    pub allow_sync: Option<bool>,
    /// `allowCameraUpload` (default off).
    pub allow_camera_upload: Option<bool>,
    /// `allowChannels` (default off).
    pub allow_channels: Option<bool>,
    /// `allowSubtitleAdmin` (default off).
    pub allow_subtitle_admin: Option<bool>,
    /// `allowTuners`: 0 none, 1 Live TV, 2 Live TV + DVR (default 0).
    pub allow_tuners: Option<u8>,
    /// `filterMovies` (default empty).
    pub filter_movies: Option<String>,
    /// `filterMusic` (default empty).
    pub filter_music: Option<String>,
    /// `filterTelevision` (default empty).
    pub filter_television: Option<String>,
    /// `filterPhotos` (default none).
    pub filter_photos: Option<String>,
    /// `filterAll` (default none).
    pub filter_all: Option<String>,
}

impl SettingsSpec {
    pub(super) fn resolve(&self) -> SettingsRecord {
        let d = SettingsRecord::reset();
        SettingsRecord {
            allow_sync: self.allow_sync.unwrap_or(d.allow_sync),
            allow_camera_upload: self.allow_camera_upload.unwrap_or(d.allow_camera_upload),
            allow_channels: self.allow_channels.unwrap_or(d.allow_channels),
            allow_subtitle_admin: self.allow_subtitle_admin.unwrap_or(d.allow_subtitle_admin),
            allow_tuners: self.allow_tuners.unwrap_or(d.allow_tuners),
            filter_movies: self.filter_movies.clone().or(d.filter_movies),
            filter_music: self.filter_music.clone().or(d.filter_music),
            filter_television: self.filter_television.clone().or(d.filter_television),
            filter_photos: self.filter_photos.clone().or(d.filter_photos),
            filter_all: self.filter_all.clone().or(d.filter_all),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeviceSpec {
    pub(super) name: String,
    pub(super) product: Option<String>,
    pub(super) platform: Option<String>,
    pub(super) provides: Option<String>,
    pub(super) client_identifier: Option<String>,
}
