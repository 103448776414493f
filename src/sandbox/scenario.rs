//! Scenarios: the starting state of a sandbox, from TOML (`config/sandbox-scenario.toml`
//! documents the format), from a [`ScenarioBuilder`], or generated at scale.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use super::world::*;

/// A scenario that cannot be used, naming the offending key (`share[3].libraries[1]`).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("scenario: {key}: {message}")]
    Parse { key: String, message: String },
    #[error("scenario: {key}: {message}")]
    Invalid { key: String, message: String },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The starting state of a sandbox (auth tokens are issued when it starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    world: World,
}

impl Scenario {
    pub fn from_toml_str(s: &str) -> Result<Scenario, ScenarioError> {
        let de = toml::Deserializer::new(s);
        let spec: ScenarioSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            ScenarioError::Parse {
                key: if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                message: e.into_inner().to_string().trim().to_string(),
            }
        })?;
        spec.resolve()
    }

    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::from_toml_str(&text).map_err(|e| match e {
            ScenarioError::Parse { key, message } => ScenarioError::Parse {
                key: format!("{}: {key}", path.display()),
                message,
            },
            ScenarioError::Invalid { key, message } => ScenarioError::Invalid {
                key: format!("{}: {key}", path.display()),
                message,
            },
            other => other,
        })
    }

    /// The built-in demo (`config/sandbox-scenario.toml`).
    pub fn demo() -> Scenario {
        Scenario::from_toml_str(include_str!("../../config/sandbox-scenario.toml"))
            .unwrap_or_else(|e| panic!("the bundled demo scenario is invalid: {e}"))
    }

    /// Two owned servers, "noodle" (source) and "doodoo" (destination), with the same
    /// `libraries_per_server` library titles (in a different order, so keys differ), and
    /// `accounts` friends (~88%) and managed users with random shares: on noodle 8% none,
    /// 15% all, else a list; on doodoo 20% none, 10% all, 10% pending (friends), else a list.
    /// Deterministic for a given seed.
    pub fn generated(accounts: usize, libraries_per_server: usize, seed: u64) -> Scenario {
        generate(accounts, libraries_per_server, seed)
            .resolve()
            .unwrap_or_else(|e| panic!("generated scenario is invalid: {e}"))
    }

    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder::default()
    }

    /// The state a sandbox started from this scenario begins with (no tokens yet).
    pub fn world(&self) -> &World {
        &self.world
    }

    pub(crate) fn into_world(self) -> World {
        self.world
    }
}

// ---------------------------------------------------------------------------------------------
// The TOML format (see config/sandbox-scenario.toml for the commented reference).

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioSpec {
    owner: OwnerSpec,
    #[serde(default, rename = "server")]
    servers: Vec<ServerSpec>,
    #[serde(default, rename = "account")]
    accounts: Vec<AccountSpec>,
    #[serde(default, rename = "share")]
    shares: Vec<ShareSpec>,
    #[serde(default, rename = "device")]
    devices: Vec<DeviceSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerSpec {
    username: String,
    email: Option<String>,
    title: Option<String>,
    password: Option<String>,
    totp: Option<String>,
    id: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    name: String,
    machine_id: Option<String>,
    server_id: Option<u64>,
    /// An account handle: the server belongs to that friend and is shared to the owner.
    owner: Option<String>,
    #[serde(default)]
    libraries: Vec<LibrarySpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LibrarySpec {
    title: String,
    #[serde(rename = "type")]
    kind: String,
    id: Option<u64>,
    key: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountSpec {
    username: Option<String>,
    email: Option<String>,
    title: Option<String>,
    #[serde(default)]
    managed: bool,
    restriction_profile: Option<String>,
    id: Option<u64>,
    password: Option<String>,
    totp: Option<String>,
}

impl AccountSpec {
    fn handle(&self) -> Option<&str> {
        self.username.as_deref().or(self.title.as_deref())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareSpec {
    server: String,
    account: Option<String>,
    invited_email: Option<String>,
    libraries: LibrariesSpec,
    #[serde(default)]
    stale_libraries: Vec<LibraryRef>,
    pending: Option<bool>,
    #[serde(default)]
    settings: SettingsSpec,
    /// v2 reads leave this share's `sharingSettings` out (see `World::omit_settings`).
    #[serde(default)]
    omit_settings: bool,
    /// Reads carry this share's settings incomplete (see `World::partial_settings`).
    #[serde(default)]
    partial_settings: bool,
    id: Option<u64>,
    invited_at: Option<i64>,
    accepted_at: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "\"all\" or a list of library titles (strings) or keys (integers)"
)]
enum LibrariesSpec {
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
    Key(u64),
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
    pub allow_sync: Option<bool>,
    pub allow_camera_upload: Option<bool>,
    pub allow_channels: Option<bool>,
    pub allow_subtitle_admin: Option<bool>,
    pub allow_tuners: Option<u8>,
    pub filter_movies: Option<String>,
    pub filter_music: Option<String>,
    pub filter_television: Option<String>,
    pub filter_photos: Option<String>,
    pub filter_all: Option<String>,
}

impl SettingsSpec {
    fn resolve(&self) -> SettingsRecord {
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
struct DeviceSpec {
    name: String,
    product: Option<String>,
    platform: Option<String>,
    provides: Option<String>,
    client_identifier: Option<String>,
}

fn is_hex40(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ScenarioSpec {
    fn resolve(self) -> Result<Scenario, ScenarioError> {
        // Owner.
        let o = &self.owner;
        if o.username.trim().is_empty() {
            return Err(invalid("owner.username", "must not be empty"));
        }
        let owner_id = o.id.unwrap_or(OWNER_ID);
        let owner = AccountRecord {
            id: owner_id,
            uuid: hex_from(&format!("account:{owner_id}"), 16),
            username: Some(o.username.clone()),
            email: Some(
                o.email
                    .clone()
                    .unwrap_or_else(|| format!("{}@example.com", o.username)),
            ),
            title: o.title.clone().unwrap_or_else(|| o.username.clone()),
            password: o.password.clone(),
            totp: o.totp.clone(),
            home: true,
            restricted: false,
            restriction_profile: None,
            joined_at: BASE_EPOCH - 5 * 365 * 86_400,
        };
        let mut world = World::empty(owner);

        // Accounts.
        let mut used_ids: HashSet<u64> = self.accounts.iter().filter_map(|a| a.id).collect();
        used_ids.insert(owner_id);
        let mut seen_ids: HashSet<u64> = HashSet::from([owner_id]);
        let mut handles: HashMap<String, u64> = HashMap::new();
        let mut next_account = FIRST_ACCOUNT_ID;
        for (i, a) in self.accounts.iter().enumerate() {
            let key = format!("account[{i}]");
            let handle = a
                .handle()
                .filter(|h| !h.trim().is_empty())
                .ok_or_else(|| {
                    invalid(
                        &key,
                        "needs a username (friends) or a title (managed users)",
                    )
                })?
                .to_string();
            if a.managed && (a.username.is_some() || a.email.is_some()) {
                return Err(invalid(
                    &key,
                    "managed users have no username or email on plex.tv; give only a title",
                ));
            }
            if !a.managed && a.username.is_none() {
                return Err(invalid(
                    format!("{key}.username"),
                    "friends need a username",
                ));
            }
            if a.restriction_profile.is_some() && !a.managed {
                return Err(invalid(
                    format!("{key}.restriction_profile"),
                    "only managed users have a restriction profile",
                ));
            }
            let id = match a.id {
                Some(id) => id,
                None => {
                    while used_ids.contains(&next_account) {
                        next_account += 1;
                    }
                    next_account
                }
            };
            used_ids.insert(id);
            if !seen_ids.insert(id) {
                return Err(invalid(
                    format!("{key}.id"),
                    format!("account id {id} is used twice"),
                ));
            }
            if handles.insert(handle.to_lowercase(), id).is_some() {
                return Err(invalid(&key, format!("two accounts are named '{handle}'")));
            }
            let username = a.username.clone();
            let email = if a.managed {
                None
            } else {
                Some(a.email.clone().unwrap_or_else(|| {
                    format!(
                        "{}@example.com",
                        username.as_deref().unwrap_or_default().to_lowercase()
                    )
                }))
            };
            world.accounts.insert(
                id,
                AccountRecord {
                    id,
                    uuid: hex_from(&format!("account:{id}"), 16),
                    title: a.title.clone().unwrap_or_else(|| handle.clone()),
                    username,
                    email,
                    password: a.password.clone(),
                    totp: a.totp.clone(),
                    home: a.managed,
                    restricted: a.managed,
                    restriction_profile: a.restriction_profile.clone(),
                    joined_at: BASE_EPOCH - 3 * 365 * 86_400 + (i as i64 % 1000) * 86_400,
                },
            );
        }
        let account = |key: &str, handle: &str| -> Result<u64, ScenarioError> {
            handles
                .get(&handle.to_lowercase())
                .copied()
                .ok_or_else(|| invalid(key, format!("no [[account]] named '{handle}'")))
        };

        // Shares ids: explicit ones are reserved first.
        let mut used_share_ids: HashSet<u64> = self.shares.iter().filter_map(|s| s.id).collect();
        let mut next_share = FIRST_SHARE_ID;
        let mut alloc_share = |used: &mut HashSet<u64>| {
            while used.contains(&next_share) {
                next_share += 1;
            }
            used.insert(next_share);
            next_share
        };

        // Servers and their sections.
        let mut used_section_ids: HashSet<u64> = self
            .servers
            .iter()
            .flat_map(|s| s.libraries.iter().filter_map(|l| l.id))
            .collect();
        let mut seen_section_ids = HashSet::new();
        let mut next_section = FIRST_SECTION_ID;
        let mut mids = HashSet::new();
        for (i, s) in self.servers.iter().enumerate() {
            let key = format!("server[{i}]");
            if s.name.trim().is_empty() {
                return Err(invalid(format!("{key}.name"), "must not be empty"));
            }
            let machine_id = match &s.machine_id {
                Some(m) if is_hex40(m) => m.clone(),
                Some(_) => {
                    return Err(invalid(
                        format!("{key}.machine_id"),
                        "must be 40 lowercase hex characters",
                    ))
                }
                None => hex_from(&format!("server:{}:{i}", s.name), 40),
            };
            if !mids.insert(machine_id.clone()) {
                return Err(invalid(format!("{key}.machine_id"), "used by two servers"));
            }
            let owner_id = match &s.owner {
                Some(h) => Some(account(&format!("{key}.owner"), h)?),
                None => None,
            };
            let mut keys = HashSet::new();
            let mut libraries = Vec::new();
            for (j, l) in s.libraries.iter().enumerate() {
                let lkey = format!("{key}.libraries[{j}]");
                if l.kind.trim().is_empty() {
                    return Err(invalid(format!("{lkey}.type"), "must not be empty"));
                }
                let section_key = l.key.unwrap_or(j as u64 + 1);
                if !keys.insert(section_key) {
                    return Err(invalid(
                        format!("{lkey}.key"),
                        format!("key {section_key} is used twice"),
                    ));
                }
                let id = match l.id {
                    Some(id) => id,
                    None => {
                        while used_section_ids.contains(&next_section) {
                            next_section += SECTION_ID_STEP;
                        }
                        next_section
                    }
                };
                used_section_ids.insert(id);
                if !seen_section_ids.insert(id) {
                    return Err(invalid(
                        format!("{lkey}.id"),
                        format!("section id {id} is used twice"),
                    ));
                }
                libraries.push(SectionRecord {
                    id,
                    key: section_key,
                    title: l.title.clone(),
                    kind: l.kind.clone(),
                });
            }
            let n = i as i64;
            world.servers.push(ServerRecord {
                server_id: s
                    .server_id
                    .unwrap_or(FIRST_SERVER_ID + i as u64 * SERVER_ID_STEP),
                name: s.name.clone(),
                owned: owner_id.is_none(),
                owner_id,
                incoming_share_id: owner_id.map(|_| alloc_share(&mut used_share_ids)),
                libraries,
                access_token: hex_from(&format!("server-token:{machine_id}"), 20),
                version: "1.41.3.9314-a0bfb8370".into(),
                address: format!("203.0.113.{}", 10 + i % 200),
                local_address: format!("192.168.1.{}", 10 + i % 200),
                port: 32400,
                created_at: BASE_EPOCH - 700 * 86_400 + n * 86_400,
                updated_at: BASE_EPOCH - 3600 + n,
                machine_id,
            });
        }

        // Shares.
        let mut pairs = HashSet::new();
        for (i, s) in self.shares.iter().enumerate() {
            let key = format!("share[{i}]");
            let server = world
                .server_by_name(&s.server)
                .ok_or_else(|| {
                    invalid(
                        format!("{key}.server"),
                        format!("no [[server]] named '{}'", s.server),
                    )
                })?
                .clone();
            if !server.owned {
                return Err(invalid(
                    format!("{key}.server"),
                    format!(
                        "'{}' is not the owner's server; shares are only on the owner's servers",
                        s.server
                    ),
                ));
            }
            let resolve_ref = |k: String, r: &LibraryRef| -> Result<u64, ScenarioError> {
                match r {
                    LibraryRef::Key(n) => server
                        .libraries
                        .iter()
                        .find(|l| l.key == *n)
                        .map(|l| l.id)
                        .ok_or_else(|| {
                            invalid(k, format!("'{}' has no library with key {n}", server.name))
                        }),
                    LibraryRef::Title(t) => {
                        let found: Vec<_> =
                            server.libraries.iter().filter(|l| &l.title == t).collect();
                        match found.as_slice() {
                            [one] => Ok(one.id),
                            [] => Err(invalid(
                                k,
                                format!("'{}' has no library titled '{t}'", server.name),
                            )),
                            _ => Err(invalid(
                                k,
                                format!(
                                    "'{}' has several libraries titled '{t}': use the key",
                                    server.name
                                ),
                            )),
                        }
                    }
                }
            };
            let (all, section_ids) = match &s.libraries {
                LibrariesSpec::Word(w) if w == "all" => (true, BTreeSet::new()),
                LibrariesSpec::Word(w) => {
                    return Err(invalid(
                        format!("{key}.libraries"),
                        format!("expected \"all\" or a list, found \"{w}\""),
                    ))
                }
                LibrariesSpec::List(list) if list.is_empty() => {
                    return Err(invalid(
                        format!("{key}.libraries"),
                        "an empty list is not a share; write \"all\" or leave the share out",
                    ))
                }
                LibrariesSpec::List(list) => {
                    let mut ids = BTreeSet::new();
                    for (j, r) in list.iter().enumerate() {
                        ids.insert(resolve_ref(format!("{key}.libraries[{j}]"), r)?);
                    }
                    (false, ids)
                }
            };
            let mut stale = BTreeSet::new();
            for (j, r) in s.stale_libraries.iter().enumerate() {
                if !all {
                    return Err(invalid(
                        format!("{key}.stale_libraries"),
                        "only shares of \"all\" libraries carry a stale list",
                    ));
                }
                stale.insert(resolve_ref(format!("{key}.stale_libraries[{j}]"), r)?);
            }
            let (account_id, invited_email, pending) = match (&s.account, &s.invited_email) {
                (Some(h), None) => {
                    let id = account(&format!("{key}.account"), h)?;
                    let pending = s.pending.unwrap_or(false);
                    if pending && world.accounts[&id].is_managed() {
                        return Err(invalid(
                            format!("{key}.pending"),
                            "managed users' shares are never pending",
                        ));
                    }
                    (Some(id), None, pending)
                }
                (None, Some(email)) => {
                    if s.pending == Some(false) {
                        return Err(invalid(
                            format!("{key}.pending"),
                            "an invite to an address with no account is always pending",
                        ));
                    }
                    (None, Some(email.clone()), true)
                }
                _ => {
                    return Err(invalid(
                        &key,
                        "give exactly one of `account` or `invited_email`",
                    ))
                }
            };
            let pair = (
                server.machine_id.clone(),
                account_id
                    .map(|a| a.to_string())
                    .or(invited_email.clone())
                    .unwrap_or_default(),
            );
            if !pairs.insert(pair) {
                return Err(invalid(
                    &key,
                    "a second share for the same server and account (plex.tv keeps one per pair)",
                ));
            }
            let id = match s.id {
                Some(id) => id,
                None => alloc_share(&mut used_share_ids),
            };
            if world.shares.contains_key(&id)
                || world
                    .servers
                    .iter()
                    .any(|sv| sv.incoming_share_id == Some(id))
            {
                return Err(invalid(
                    format!("{key}.id"),
                    format!("share id {id} is used twice"),
                ));
            }
            let invited_at = s
                .invited_at
                .unwrap_or(BASE_EPOCH - 400 * 86_400 + (i as i64 % 300) * 86_400);
            let accepted_at = if pending {
                None
            } else {
                Some(s.accepted_at.unwrap_or(invited_at + 3_600))
            };
            if s.omit_settings {
                world.omit_settings.insert(id);
            }
            if s.partial_settings {
                world.partial_settings.insert(id);
            }
            world.shares.insert(
                id,
                ShareRecord {
                    id,
                    machine_id: server.machine_id.clone(),
                    account_id,
                    invited_email,
                    pending,
                    all_libraries: all,
                    section_ids: if all { stale } else { section_ids },
                    settings: s.settings.resolve(),
                    invited_at,
                    accepted_at,
                    access_token: hex_from(&format!("share-token:{id}"), 20),
                    invite_token: hex_from(&format!("invite-token:{id}"), 24),
                },
            );
        }
        world.next_share_id = used_share_ids
            .iter()
            .copied()
            .chain([FIRST_SHARE_ID - 1])
            .max()
            .unwrap_or(FIRST_SHARE_ID)
            + 1;

        // Devices.
        for (i, d) in self.devices.iter().enumerate() {
            world.devices.push(DeviceRecord {
                name: d.name.clone(),
                product: d.product.clone().unwrap_or_else(|| "Plex Web".into()),
                platform: d.platform.clone().unwrap_or_else(|| "Chrome".into()),
                provides: d.provides.clone().unwrap_or_else(|| "client,player".into()),
                client_identifier: d
                    .client_identifier
                    .clone()
                    .unwrap_or_else(|| hex_from(&format!("device:{}:{i}", d.name), 24)),
                access_token: hex_from(&format!("device-token:{i}"), 20),
                created_at: BASE_EPOCH - 100 * 86_400 + i as i64 * 86_400,
            });
        }
        Ok(Scenario { world })
    }
}

// ---------------------------------------------------------------------------------------------
// Builder.

/// A small builder for tests. Accounts are referred to by username (friends) or title
/// (managed users); libraries by exact title or key (`LibraryRef`).
///
/// ```
/// use sharesync::sandbox::Scenario;
/// let s = Scenario::builder()
///     .server("noodle", &[("Movies", "movie"), ("TV Shows", "show")])
///     .server("doodoo", &[("Movies", "movie")])
///     .friend("alice")
///     .managed("Kiddo")
///     .share("noodle", "alice", ["Movies", "TV Shows"])
///     .share_all("doodoo", "Kiddo")
///     .build();
/// assert_eq!(s.world().accounts.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    spec: ScenarioSpec,
}

impl Default for ScenarioBuilder {
    fn default() -> Self {
        ScenarioBuilder {
            spec: ScenarioSpec {
                owner: OwnerSpec {
                    username: "sandbox-owner".into(),
                    password: Some("sandbox-password".into()),
                    ..OwnerSpec::default()
                },
                ..ScenarioSpec::default()
            },
        }
    }
}

impl ScenarioBuilder {
    /// The owner's username (default `sandbox-owner`).
    pub fn owner(mut self, username: &str) -> Self {
        self.spec.owner.username = username.into();
        self
    }

    /// The owner's password and, optionally, the verification code sign-in then requires.
    pub fn owner_password(mut self, password: &str, totp: Option<&str>) -> Self {
        self.spec.owner.password = Some(password.into());
        self.spec.owner.totp = totp.map(Into::into);
        self
    }

    /// An owned server with `(title, type)` libraries, keys 1..n in this order.
    pub fn server(mut self, name: &str, libraries: &[(&str, &str)]) -> Self {
        self.spec.servers.push(ServerSpec {
            name: name.into(),
            libraries: libraries
                .iter()
                .map(|(t, k)| LibrarySpec {
                    title: (*t).into(),
                    kind: (*k).into(),
                    ..LibrarySpec::default()
                })
                .collect(),
            ..ServerSpec::default()
        });
        self
    }

    /// A server owned by the account `owner` and shared (all libraries) to the sandbox owner.
    pub fn foreign_server(mut self, name: &str, owner: &str, libraries: &[(&str, &str)]) -> Self {
        self = self.server(name, libraries);
        if let Some(s) = self.spec.servers.last_mut() {
            s.owner = Some(owner.into());
        }
        self
    }

    /// A friend (email `<username>@example.com`).
    pub fn friend(mut self, username: &str) -> Self {
        self.spec.accounts.push(AccountSpec {
            username: Some(username.into()),
            ..AccountSpec::default()
        });
        self
    }

    /// A friend with a password (and optional verification code) for sign-in tests.
    pub fn friend_with_password(
        mut self,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> Self {
        self.spec.accounts.push(AccountSpec {
            username: Some(username.into()),
            password: Some(password.into()),
            totp: totp.map(Into::into),
            ..AccountSpec::default()
        });
        self
    }

    /// A managed user: no username, no email.
    pub fn managed(mut self, title: &str) -> Self {
        self.spec.accounts.push(AccountSpec {
            title: Some(title.into()),
            managed: true,
            ..AccountSpec::default()
        });
        self
    }

    fn push_share(
        mut self,
        server: &str,
        account: Option<&str>,
        email: Option<&str>,
        libraries: LibrariesSpec,
        pending: Option<bool>,
    ) -> Self {
        self.spec.shares.push(ShareSpec {
            server: server.into(),
            account: account.map(Into::into),
            invited_email: email.map(Into::into),
            libraries,
            stale_libraries: Vec::new(),
            pending,
            settings: SettingsSpec::default(),
            omit_settings: false,
            partial_settings: false,
            id: None,
            invited_at: None,
            accepted_at: None,
        });
        self
    }

    /// An accepted share of exactly these libraries.
    pub fn share<L: Into<LibraryRef>>(
        self,
        server: &str,
        account: &str,
        libraries: impl IntoIterator<Item = L>,
    ) -> Self {
        let list = libraries.into_iter().map(Into::into).collect();
        self.push_share(server, Some(account), None, LibrariesSpec::List(list), None)
    }

    /// An accepted share of all libraries.
    pub fn share_all(self, server: &str, account: &str) -> Self {
        self.push_share(
            server,
            Some(account),
            None,
            LibrariesSpec::Word("all".into()),
            None,
        )
    }

    /// A pending (not yet accepted) share of these libraries to a friend.
    pub fn pending_share<L: Into<LibraryRef>>(
        self,
        server: &str,
        account: &str,
        libraries: impl IntoIterator<Item = L>,
    ) -> Self {
        let list = libraries.into_iter().map(Into::into).collect();
        self.push_share(
            server,
            Some(account),
            None,
            LibrariesSpec::List(list),
            Some(true),
        )
    }

    /// A pending invite to an address that has no plex.tv account.
    pub fn invite_email<L: Into<LibraryRef>>(
        self,
        server: &str,
        email: &str,
        libraries: impl IntoIterator<Item = L>,
    ) -> Self {
        let list = libraries.into_iter().map(Into::into).collect();
        self.push_share(
            server,
            None,
            Some(email),
            LibrariesSpec::List(list),
            Some(true),
        )
    }

    /// Settings of the share added last.
    pub fn settings(mut self, settings: SettingsSpec) -> Self {
        if let Some(s) = self.spec.shares.last_mut() {
            s.settings = settings;
        }
        self
    }

    /// v2 reads leave the `sharingSettings` of the share added last out.
    pub fn omit_settings(mut self) -> Self {
        if let Some(s) = self.spec.shares.last_mut() {
            s.omit_settings = true;
        }
        self
    }

    /// Reads carry the settings of the share added last incomplete.
    pub fn partial_settings(mut self) -> Self {
        if let Some(s) = self.spec.shares.last_mut() {
            s.partial_settings = true;
        }
        self
    }

    /// A restriction profile (`little_kid`, `older_kid`, `teen`) for the managed user added last.
    pub fn restriction_profile(mut self, profile: &str) -> Self {
        if let Some(a) = self.spec.accounts.last_mut() {
            a.restriction_profile = Some(profile.into());
        }
        self
    }

    /// A non-server device of the owner.
    pub fn device(mut self, name: &str, product: &str, provides: &str) -> Self {
        self.spec.devices.push(DeviceSpec {
            name: name.into(),
            product: Some(product.into()),
            provides: Some(provides.into()),
            ..DeviceSpec::default()
        });
        self
    }

    pub fn try_build(self) -> Result<Scenario, ScenarioError> {
        self.spec.resolve()
    }

    /// Panics on an invalid scenario (tests).
    pub fn build(self) -> Scenario {
        self.try_build().unwrap_or_else(|e| panic!("{e}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Generated scenarios (benchmarks, property tests).

const GENERATED_TITLES: &[(&str, &str)] = &[
    ("Movies", "movie"),
    ("TV Shows", "show"),
    ("Music", "artist"),
    ("Kids", "movie"),
    ("Anime", "show"),
    ("Documentaries", "movie"),
    ("4K Movies", "movie"),
    ("Home Videos", "photo"),
    ("Concerts", "movie"),
    ("Audiobooks", "artist"),
    ("Classics", "movie"),
    ("Stand-Up", "show"),
    ("Foreign Films", "movie"),
    ("Sports", "show"),
    ("Podcasts", "artist"),
    ("Photos", "photo"),
    ("Cartoons", "show"),
    ("Reality TV", "show"),
    ("Mini-Series", "show"),
    ("Holiday", "movie"),
];

fn generate(accounts: usize, libraries_per_server: usize, seed: u64) -> ScenarioSpec {
    let mut rng = StdRng::seed_from_u64(seed);
    let libs: Vec<LibrarySpec> = (0..libraries_per_server)
        .map(|i| {
            let (title, kind) = GENERATED_TITLES[i % GENERATED_TITLES.len()];
            let round = i / GENERATED_TITLES.len();
            LibrarySpec {
                title: if round == 0 {
                    title.to_string()
                } else {
                    format!("{title} {}", round + 1)
                },
                kind: kind.to_string(),
                ..LibrarySpec::default()
            }
        })
        .collect();
    // doodoo lists the same titles in reverse, so a title's key differs between the servers.
    let mut dest_libs = libs.clone();
    dest_libs.reverse();
    let n = libraries_per_server as u64;
    let mut spec = ScenarioSpec {
        owner: OwnerSpec {
            username: "sandbox-owner".into(),
            password: Some("sandbox-password".into()),
            ..OwnerSpec::default()
        },
        servers: vec![
            ServerSpec {
                name: "noodle".into(),
                libraries: libs,
                ..ServerSpec::default()
            },
            ServerSpec {
                name: "doodoo".into(),
                libraries: dest_libs,
                ..ServerSpec::default()
            },
        ],
        ..ScenarioSpec::default()
    };
    let subset = |rng: &mut StdRng, p: f64| -> Vec<LibraryRef> {
        let mut keys: Vec<LibraryRef> = (1..=n)
            .filter(|_| rng.gen_bool(p))
            .map(LibraryRef::Key)
            .collect();
        if keys.is_empty() && n > 0 {
            keys.push(LibraryRef::Key(rng.gen_range(1..=n)));
        }
        keys
    };
    for i in 0..accounts {
        let managed = rng.gen_bool(0.12);
        let handle = if managed {
            format!("Managed {i:05}")
        } else {
            format!("user{i:05}")
        };
        spec.accounts.push(AccountSpec {
            username: (!managed).then(|| handle.clone()),
            title: Some(if managed {
                handle.clone()
            } else {
                format!("User {i:05}")
            }),
            managed,
            ..AccountSpec::default()
        });
        if n == 0 {
            continue;
        }
        let settings = SettingsSpec {
            allow_sync: Some(rng.gen_bool(0.5)),
            allow_tuners: Some(rng.gen_range(0..=2)),
            filter_movies: rng
                .gen_bool(0.1)
                .then(|| "contentRating=G%2CPG".to_string()),
            ..SettingsSpec::default()
        };
        let share = |server: &str,
                     libraries: LibrariesSpec,
                     stale: Vec<LibraryRef>,
                     pending: bool| ShareSpec {
            server: server.into(),
            account: Some(handle.clone()),
            invited_email: None,
            libraries,
            stale_libraries: stale,
            pending: Some(pending),
            settings: settings.clone(),
            omit_settings: false,
            partial_settings: false,
            id: None,
            invited_at: None,
            accepted_at: None,
        };
        let r: f64 = rng.gen();
        if r >= 0.08 {
            let s = if r < 0.23 {
                let stale = if rng.gen_bool(0.3) {
                    subset(&mut rng, 0.5)
                } else {
                    Vec::new()
                };
                share("noodle", LibrariesSpec::Word("all".into()), stale, false)
            } else {
                share(
                    "noodle",
                    LibrariesSpec::List(subset(&mut rng, 0.4)),
                    Vec::new(),
                    false,
                )
            };
            spec.shares.push(s);
        }
        let r: f64 = rng.gen();
        if r >= 0.20 {
            let s = if r < 0.30 {
                share(
                    "doodoo",
                    LibrariesSpec::Word("all".into()),
                    Vec::new(),
                    false,
                )
            } else if r < 0.40 && !managed {
                share(
                    "doodoo",
                    LibrariesSpec::List(subset(&mut rng, 0.3)),
                    Vec::new(),
                    true,
                )
            } else {
                share(
                    "doodoo",
                    LibrariesSpec::List(subset(&mut rng, 0.3)),
                    Vec::new(),
                    false,
                )
            };
            spec.shares.push(s);
        }
    }
    spec
}
