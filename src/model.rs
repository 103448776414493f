//! Domain types. Wire formats (XML, JSON) become these at the edge of the plex.tv client;
//! the planner and executor only ever see these.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// A plex.tv account number (friends and managed users alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub u64);

/// The plex.tv-global library id: the only library identifier sharing APIs accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LibraryId(pub u64);

/// The server-local section key (`/library/sections/{key}`). Never sent to plex.tv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LibraryKey(pub u64);

/// One (server, account) share on plex.tv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShareId(pub u64);

/// A Plex Media Server's identity (`machineIdentifier`, resources' `clientIdentifier`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MachineId(pub String);

macro_rules! display_inner {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}
display_inner!(AccountId, LibraryId, LibraryKey, ShareId, MachineId);

/// A library on a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    /// The plex.tv-global id.
    pub id: LibraryId,
    /// The server-local key.
    pub key: LibraryKey,
    /// As the server names it.
    pub title: String,
    /// plex.tv's section type: movie, show, artist, photo, ...
    #[serde(rename = "type")]
    pub kind: String,
}

/// An owned server as resources list it (no libraries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerRef {
    /// As plex.tv lists it.
    pub name: String,
    /// Its identity.
    pub machine_id: MachineId,
}

/// An owned server and its library catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    /// As plex.tv names it.
    pub name: String,
    /// Its identity.
    pub machine_id: MachineId,
    /// Every library, in plex.tv's order.
    pub libraries: Vec<Library>,
}

impl Server {
    /// Its name and identity, without libraries.
    pub fn reference(&self) -> ServerRef {
        ServerRef {
            name: self.name.clone(),
            machine_id: self.machine_id.clone(),
        }
    }

    /// The library with global id `id`.
    pub fn library(&self, id: LibraryId) -> Option<&Library> {
        self.libraries.iter().find(|l| l.id == id)
    }
}

/// What kind of account a share is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// A plex.tv account of its own (username, e-mail).
    Friend,
    /// A managed user of the owner's home (no username or e-mail).
    Managed,
}

/// A plex.tv account someone shares with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Its number.
    pub id: AccountId,
    /// Managed users have neither username nor email.
    pub username: Option<String>,
    /// Its e-mail address, when plex.tv shows it.
    pub email: Option<String>,
    /// The name plex.tv shows for it.
    pub title: String,
    /// Friend or managed user.
    pub kind: AccountKind,
}

impl Account {
    /// The name a person recognises: username, else title, else the id.
    pub fn display_name(&self) -> String {
        self.username
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| Some(self.title.clone()).filter(|t| !t.is_empty()))
            .unwrap_or_else(|| format!("account {}", self.id))
    }
}

/// Whether the account accepted the share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareState {
    /// Accepted.
    Accepted,
    /// Invited, not yet accepted.
    Pending,
}

/// What a share lets its account see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// `allLibraries`: every library, including ones added later.
    All,
    /// These libraries only.
    Libraries(BTreeSet<LibraryId>),
}

impl Access {
    /// Whether the share lets its account see library `id`.
    pub fn contains(&self, id: LibraryId) -> bool {
        match self {
            Access::All => true,
            Access::Libraries(ids) => ids.contains(&id),
        }
    }
}

/// One share on plex.tv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// Its number.
    pub id: ShareId,
    /// The account it is for.
    pub account: AccountId,
    /// Accepted or pending.
    pub state: ShareState,
    /// What it lets the account see.
    pub access: Access,
    /// As read. `None`: plex.tv's read did not return this share's settings (v2
    /// `sharingSettings` null or absent, legacy attributes missing). Never guessed from another
    /// share or from the account: a write to such a share must not carry settings at all, and
    /// a new share is never copied from them: restrictions are access.
    pub settings: Option<SharingSettings>,
}

/// A share's permissions and filters. sharesync never changes them on an existing share; it
/// carries them so a v2 update, which replaces settings along with libraries, can send them
/// back as they were, and so a new share can carry its source share's restrictions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingSettings {
    /// May download (sync) media.
    pub allow_sync: bool,
    /// May upload from a camera.
    pub allow_camera_upload: bool,
    /// May use channels.
    pub allow_channels: bool,
    /// May manage subtitles.
    pub allow_subtitle_admin: bool,
    /// 0 none, 1 Live TV, 2 Live TV + DVR.
    pub allow_tuners: u8,
    // Filters are required keys (null for none) when loaded, as every field is: a saved plan
    // whose restrictions lack one must not load as "no filter".
    /// Movie filter (`None`: none).
    #[serde(deserialize_with = "Option::deserialize")]
    pub filter_movies: Option<String>,
    /// Music filter (`None`: none).
    #[serde(deserialize_with = "Option::deserialize")]
    pub filter_music: Option<String>,
    /// TV filter (`None`: none).
    #[serde(deserialize_with = "Option::deserialize")]
    pub filter_television: Option<String>,
    /// Photo filter (`None`: none).
    #[serde(deserialize_with = "Option::deserialize")]
    pub filter_photos: Option<String>,
    /// Filter over all libraries (`None`: none).
    #[serde(deserialize_with = "Option::deserialize")]
    pub filter_all: Option<String>,
}

/// One server's catalogue and every share on it, keyed by account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSharing {
    /// The server and its catalogue.
    pub server: Server,
    /// Its shares, by account.
    pub shares: BTreeMap<AccountId, Share>,
}

impl ServerSharing {
    /// Accounts that can see at least one library of the server (the planner's rule: a share
    /// with no libraries is no access).
    pub fn accounts_with_access(&self) -> usize {
        let libraries = &self.server.libraries;
        self.shares
            .values()
            .filter(|s| libraries.iter().any(|l| s.access.contains(l.id)))
            .count()
    }
}

/// Everything the planner needs: who the accounts are and who sees what on both servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingState {
    /// Every account with a share on either server.
    pub accounts: BTreeMap<AccountId, Account>,
    /// The source server.
    pub source: ServerSharing,
    /// The destination server.
    pub dest: ServerSharing,
}

/// The plex.tv account the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Its number.
    pub id: AccountId,
    /// Its username.
    pub username: String,
    /// Its e-mail address.
    pub email: Option<String>,
    /// The name plex.tv shows for it.
    pub title: String,
}
