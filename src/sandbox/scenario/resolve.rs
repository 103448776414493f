//! A scenario's spec resolved into a world: ids allocated in their ranges, accounts, servers and
//! libraries looked up by name, and every inconsistency refused with the key it is at.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use super::spec::{LibrariesSpec, LibraryRef, ScenarioSpec};
use super::{Scenario, ScenarioError};
use crate::sandbox::world::*;

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

impl Scenario {
    /// A scenario from TOML text (the format of `config/sandbox-scenario.toml`).
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

    /// A scenario from a TOML file; errors name the file and the key.
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
        Scenario::from_toml_str(include_str!("../../../config/sandbox-scenario.toml"))
            .unwrap_or_else(|e| panic!("the bundled demo scenario is invalid: {e}"))
    }
}

fn is_hex40(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ScenarioSpec {
    /// The world this spec describes, or the first inconsistency.
    pub(super) fn resolve(self) -> Result<Scenario, ScenarioError> {
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
