//! The legacy family's wire structs: XML `MediaContainer` documents with capitalised elements
//! and `"0"/"1"` booleans. No `accessToken` field: serde drops it with every other unknown
//! attribute.

use serde::Deserialize;

use crate::model::SharingSettings;
use crate::plex::de::{flag, flag_opt, string_opt, u64_opt, u64_req};
use crate::plex::validate;

/// The root element of every legacy answer.
pub(super) const ROOT: &str = "MediaContainer";

// ---------------------------------------------------------------------------------------------
// Wire models

/// `GET /api/resources`
#[derive(Debug, Deserialize)]
pub(super) struct Devices {
    #[serde(rename = "Device", default)]
    pub(super) devices: Vec<Device>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Device {
    #[serde(rename = "@name", default, deserialize_with = "string_opt")]
    pub(super) name: Option<String>,
    #[serde(rename = "@clientIdentifier", default, deserialize_with = "string_opt")]
    pub(super) client_identifier: Option<String>,
    #[serde(rename = "@provides", default, deserialize_with = "string_opt")]
    pub(super) provides: Option<String>,
    #[serde(rename = "@owned", default, deserialize_with = "flag")]
    pub(super) owned: bool,
}

/// `GET /api/servers/{mid}`
#[derive(Debug, Deserialize)]
pub(super) struct Servers {
    #[serde(rename = "Server", default)]
    pub(super) servers: Vec<WireServer>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireServer {
    #[serde(rename = "@name", default, deserialize_with = "string_opt")]
    pub(super) name: Option<String>,
    #[serde(
        rename = "@machineIdentifier",
        default,
        deserialize_with = "string_opt"
    )]
    pub(super) machine_identifier: Option<String>,
    #[serde(rename = "Section", default)]
    pub(super) sections: Vec<Section>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Section {
    #[serde(rename = "@id", deserialize_with = "u64_req")]
    pub(super) id: u64,
    #[serde(rename = "@key", default, deserialize_with = "u64_opt")]
    pub(super) key: Option<u64>,
    #[serde(rename = "@title", default, deserialize_with = "string_opt")]
    pub(super) title: Option<String>,
    #[serde(rename = "@type", default, deserialize_with = "string_opt")]
    pub(super) kind: Option<String>,
    #[serde(rename = "@shared", default, deserialize_with = "flag")]
    pub(super) shared: bool,
}

/// `GET /api/users`
#[derive(Debug, Deserialize)]
pub(super) struct Users {
    #[serde(rename = "User", default)]
    pub(super) users: Vec<User>,
}

#[derive(Debug, Deserialize)]
pub(super) struct User {
    /// Absent for a pending invite to an address without an account.
    #[serde(rename = "@id", default, deserialize_with = "u64_opt")]
    pub(super) id: Option<u64>,
    #[serde(rename = "@title", default, deserialize_with = "string_opt")]
    pub(super) title: Option<String>,
    #[serde(rename = "@username", default, deserialize_with = "string_opt")]
    pub(super) username: Option<String>,
    #[serde(rename = "@email", default, deserialize_with = "string_opt")]
    pub(super) email: Option<String>,
    #[serde(rename = "@home", default, deserialize_with = "flag")]
    pub(super) home: bool,
    #[serde(rename = "@restricted", default, deserialize_with = "flag")]
    pub(super) restricted: bool,
    #[serde(rename = "Server", default)]
    pub(super) servers: Vec<UserServer>,
}

/// `User > Server`: one share summary; `id` is the shared-server id.
#[derive(Debug, Deserialize)]
pub(super) struct UserServer {
    #[serde(rename = "@id", deserialize_with = "u64_req")]
    pub(super) id: u64,
    #[serde(
        rename = "@machineIdentifier",
        default,
        deserialize_with = "string_opt"
    )]
    pub(super) machine_identifier: Option<String>,
    #[serde(rename = "@owned", default, deserialize_with = "flag")]
    pub(super) owned: bool,
    #[serde(rename = "@pending", default, deserialize_with = "flag")]
    pub(super) pending: bool,
    #[serde(rename = "@allLibraries", default, deserialize_with = "flag_opt")]
    pub(super) all_libraries: Option<bool>,
    #[serde(rename = "@numLibraries", default, deserialize_with = "u64_opt")]
    pub(super) num_libraries: Option<u64>,
}

/// `GET /api/servers/{mid}/shared_servers` (and the create response).
#[derive(Debug, Deserialize)]
pub(super) struct SharedServers {
    #[serde(rename = "SharedServer", default)]
    pub(super) shared: Vec<SharedServer>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SharedServer {
    #[serde(rename = "@id", deserialize_with = "u64_req")]
    pub(super) id: u64,
    #[serde(rename = "@userID", default, deserialize_with = "u64_opt")]
    pub(super) user_id: Option<u64>,
    #[serde(rename = "@username", default, deserialize_with = "string_opt")]
    pub(super) username: Option<String>,
    #[serde(rename = "@email", default, deserialize_with = "string_opt")]
    pub(super) email: Option<String>,
    /// Absent in recorded public payloads: then `/api/users`' `Server@allLibraries` says.
    #[serde(rename = "@allLibraries", default, deserialize_with = "flag_opt")]
    pub(super) all_libraries: Option<bool>,
    // Each attribute is `None` when absent: settings are known only when all are there.
    #[serde(rename = "@allowSync", default, deserialize_with = "flag_opt")]
    pub(super) allow_sync: Option<bool>,
    #[serde(rename = "@allowCameraUpload", default, deserialize_with = "flag_opt")]
    pub(super) allow_camera_upload: Option<bool>,
    #[serde(rename = "@allowChannels", default, deserialize_with = "flag_opt")]
    pub(super) allow_channels: Option<bool>,
    #[serde(rename = "@allowSubtitleAdmin", default, deserialize_with = "flag_opt")]
    pub(super) allow_subtitle_admin: Option<bool>,
    #[serde(rename = "@allowTuners", default, deserialize_with = "u64_opt")]
    pub(super) allow_tuners: Option<u64>,
    #[serde(rename = "@filterMovies", default, deserialize_with = "string_opt")]
    pub(super) filter_movies: Option<String>,
    #[serde(rename = "@filterMusic", default, deserialize_with = "string_opt")]
    pub(super) filter_music: Option<String>,
    #[serde(rename = "@filterTelevision", default, deserialize_with = "string_opt")]
    pub(super) filter_television: Option<String>,
    #[serde(rename = "@filterPhotos", default, deserialize_with = "string_opt")]
    pub(super) filter_photos: Option<String>,
    #[serde(rename = "@filterAll", default, deserialize_with = "string_opt")]
    pub(super) filter_all: Option<String>,
    #[serde(rename = "Section", default)]
    pub(super) sections: Vec<Section>,
}

impl SharedServer {
    /// `None` unless every settings attribute is there (an empty filter is `""`).
    pub(super) fn settings(&self) -> Option<SharingSettings> {
        let present = |f: &Option<String>| f.clone().map(Some);
        validate::known_settings(
            [
                self.allow_sync,
                self.allow_camera_upload,
                self.allow_channels,
                self.allow_subtitle_admin,
            ],
            self.allow_tuners,
            [
                present(&self.filter_movies),
                present(&self.filter_music),
                present(&self.filter_television),
                present(&self.filter_photos),
                present(&self.filter_all),
            ],
        )
    }
}
