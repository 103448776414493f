//! The v2 family's wire structs (JSON). No `accessToken` or `inviteToken` field: serde drops
//! them.

use serde::Deserialize;
use serde_json::json;

use crate::model::SharingSettings;
use crate::plex::de::{flag, flag_opt, string_opt, string_present, u64_opt, u64_req, vec_or_null};
use crate::plex::validate;

/// `GET /api/v2/resources` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Resource {
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) client_identifier: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) provides: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub(super) owned: bool,
}

/// `GET /api/v2/servers/{mid}`
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireServer {
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) machine_identifier: Option<String>,
    /// Required: a body without it is not a catalogue.
    #[serde(deserialize_with = "vec_or_null")]
    pub(super) library_sections: Vec<WireLibrary>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireLibrary {
    #[serde(deserialize_with = "u64_req")]
    pub(super) id: u64,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(super) key: Option<u64>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) title: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "string_opt")]
    pub(super) kind: Option<String>,
}

/// The account a share is for (`invited`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Invited {
    #[serde(default, deserialize_with = "u64_opt")]
    pub(super) id: Option<u64>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) title: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) username: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) email: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) friendly_name: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    pub(super) restricted: bool,
    #[serde(default, deserialize_with = "flag")]
    pub(super) home: bool,
}

/// `sharingSettings` / `settings`, read and written in the same shape. Every field is `None`
/// when its key is missing (a filter's explicit `null` is `Some(None)`), so a partial object is
/// told apart from a complete one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireSettings {
    #[serde(default, deserialize_with = "flag_opt")]
    pub(super) allow_sync: Option<bool>,
    #[serde(default, deserialize_with = "flag_opt")]
    pub(super) allow_camera_upload: Option<bool>,
    #[serde(default, deserialize_with = "flag_opt")]
    pub(super) allow_channels: Option<bool>,
    #[serde(default, deserialize_with = "flag_opt")]
    pub(super) allow_subtitle_admin: Option<bool>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(super) allow_tuners: Option<u64>,
    #[serde(default, deserialize_with = "string_present")]
    pub(super) filter_movies: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    pub(super) filter_music: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    pub(super) filter_television: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    pub(super) filter_photos: Option<Option<String>>,
    #[serde(default, deserialize_with = "string_present")]
    pub(super) filter_all: Option<Option<String>>,
}

impl WireSettings {
    /// The share's settings, or `None` unless every key is there.
    pub(super) fn known(&self) -> Option<SharingSettings> {
        validate::known_settings(
            [
                self.allow_sync,
                self.allow_camera_upload,
                self.allow_channels,
                self.allow_subtitle_admin,
            ],
            self.allow_tuners,
            [
                self.filter_movies.clone(),
                self.filter_music.clone(),
                self.filter_television.clone(),
                self.filter_photos.clone(),
                self.filter_all.clone(),
            ],
        )
    }
}

/// Settings as the v2 write endpoints take them: every field, nulls kept as nulls.
pub(super) fn settings_json(s: &SharingSettings) -> serde_json::Value {
    json!({
        "allowSync": s.allow_sync,
        "allowCameraUpload": s.allow_camera_upload,
        "allowChannels": s.allow_channels,
        "allowSubtitleAdmin": s.allow_subtitle_admin,
        "allowTuners": s.allow_tuners,
        "filterMovies": s.filter_movies,
        "filterMusic": s.filter_music,
        "filterTelevision": s.filter_television,
        "filterPhotos": s.filter_photos,
        "filterAll": s.filter_all,
    })
}

/// A SharedServer object (`owned/accepted` element, pending invite's `sharedServers[]`, create
/// response).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SharedServer {
    #[serde(deserialize_with = "u64_req")]
    pub(super) id: u64,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(super) invited_id: Option<u64>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) invited_email: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) machine_identifier: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) deleted_at: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    pub(super) left_at: Option<String>,
    /// `None` when plex.tv left it out: the share's access is then unknown (see
    /// `select::check_share_counts`).
    #[serde(default, deserialize_with = "flag_opt")]
    pub(super) all_libraries: Option<bool>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(super) num_libraries: Option<u64>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub(super) libraries: Vec<WireLibrary>,
    #[serde(default)]
    pub(super) sharing_settings: Option<WireSettings>,
    #[serde(default)]
    pub(super) invited: Option<Invited>,
}

/// `GET /api/v2/shared_servers/invites/owned/pending` element.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PendingInvite {
    #[serde(default)]
    pub(super) invited: Option<Invited>,
    #[serde(default, deserialize_with = "u64_opt")]
    pub(super) invited_id: Option<u64>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub(super) shared_servers: Vec<SharedServer>,
}

/// Both share lists, read once for every server.
pub(super) struct ShareLists {
    pub(super) accepted: Vec<SharedServer>,
    pub(super) pending: Vec<PendingInvite>,
}
