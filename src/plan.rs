//! The planner: a pure function from two servers' sharing state to a [`Plan`].
//!
//! For every account that can see libraries on the source, it finds the destination libraries
//! with the same name (design.md "Matching rules") and proposes adding the ones the account
//! lacks. It never proposes removing anything and never proposes a library the destination
//! does not have.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::model::{
    Access, Account, AccountId, AccountKind, Library, LibraryId, Server, Share, ShareState,
    SharingSettings, SharingState,
};
use crate::restrictions;

pub const PLAN_SCHEMA: u32 = 1;

/// What the planner may do, from config and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Create a destination share for an account that has none.
    pub new_share: bool,
    /// A new share carries its source share's restrictions (filters and permissions); off:
    /// plex.tv's defaults, as the seed script does.
    pub copy_restrictions: bool,
    /// Refuse to match libraries whose types differ (movie vs show).
    pub require_same_type: bool,
    /// Source title → destination title, for libraries named differently on each side.
    pub aliases: BTreeMap<String, String>,
    /// Titles (on either side) never synced.
    pub exclude: Vec<String>,
    /// Only these accounts: username, email, title or account id, case-insensitive. Empty: all.
    pub only_accounts: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            new_share: true,
            copy_restrictions: true,
            require_same_type: false,
            aliases: BTreeMap::new(),
            exclude: Vec::new(),
            only_accounts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no account with access on {server} matches {}; use a username, email, title or account id", quoted(.filters))]
    UnknownAccounts {
        server: String,
        filters: Vec<String>,
    },
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Update an existing, accepted destination share.
    Grant,
    /// Create a destination share.
    NewShare,
    /// Already has every matching library.
    InSync,
    /// The destination share already has All.
    DestAll,
    /// The destination share is not yet accepted; it is updated through its share id.
    Pending,
    /// Nothing the account sees on the source exists on the destination.
    NoMatch,
    /// Not planned, with the reason in `notes`.
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Grant,
        Outcome::NewShare,
        Outcome::Pending,
        Outcome::InSync,
        Outcome::DestAll,
        Outcome::NoMatch,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Grant => "grant",
            Outcome::NewShare => "new_share",
            Outcome::InSync => "in_sync",
            Outcome::DestAll => "dest_all",
            Outcome::Pending => "pending",
            Outcome::NoMatch => "no_match",
            Outcome::Skipped => "skipped",
        }
    }

    /// Outcomes that write to plex.tv.
    pub fn writes(self) -> bool {
        matches!(self, Outcome::Grant | Outcome::NewShare | Outcome::Pending)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSummary {
    pub name: String,
    pub machine_identifier: String,
}

impl From<&Server> for ServerSummary {
    fn from(s: &Server) -> Self {
        ServerSummary {
            name: s.name.clone(),
            machine_identifier: s.machine_id.0.clone(),
        }
    }
}

/// One account's line in the plan (plan JSON schema 1, design.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAccount {
    pub account_id: AccountId,
    pub username: Option<String>,
    pub email: Option<String>,
    pub title: String,
    pub kind: AccountKind,
    pub outcome: Outcome,
    /// Source library titles the account sees, as the source spells them, sorted.
    pub source_libraries: Vec<String>,
    /// Destination library titles to add, as the destination spells them, sorted.
    pub add: Vec<String>,
    pub notes: Vec<String>,
    /// `new_share` only: the restrictions (filters and permissions) the new share will carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restrictions: Option<SharingSettings>,
    /// Every way the destination share (existing or planned) is less restricted than the
    /// source share. sharesync never changes an existing share's restrictions itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub less_restricted: Vec<String>,
    /// The destination library ids behind `add`. Not part of the JSON: a saved plan is always
    /// recomputed from fresh state before it is applied.
    #[serde(skip)]
    pub add_ids: BTreeSet<LibraryId>,
}

impl PlannedAccount {
    pub fn display_name(&self) -> String {
        Account {
            id: self.account_id,
            username: self.username.clone(),
            email: self.email.clone(),
            title: self.title.clone(),
            kind: self.kind,
        }
        .display_name()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub users_to_update: usize,
    pub grants_to_add: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: u32,
    pub source: ServerSummary,
    pub dest: ServerSummary,
    pub users: Vec<PlannedAccount>,
    pub warnings: Vec<String>,
    pub summary: PlanSummary,
}

impl Plan {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.users.iter().filter(|u| u.outcome == outcome).count()
    }

    /// Accounts whose destination share is (or will be) less restricted than their source share.
    pub fn less_restricted(&self) -> usize {
        self.users
            .iter()
            .filter(|u| !u.less_restricted.is_empty())
            .count()
    }

    /// Accounts whose plan writes something.
    pub fn to_update(&self) -> impl Iterator<Item = &PlannedAccount> {
        self.users
            .iter()
            .filter(|u| u.outcome.writes() && !u.add.is_empty())
    }

    /// How this plan's changes differ from `other`'s, one line per difference; empty when an
    /// approval of `other` also approves this plan (design.md invariant 5, stale-safe).
    pub fn differences(&self, other: &Plan) -> Vec<String> {
        let mut out = Vec::new();
        for (label, a, b) in [
            ("source", &self.source, &other.source),
            ("destination", &self.dest, &other.dest),
        ] {
            if a.machine_identifier != b.machine_identifier {
                out.push(format!("{label} server is now {} (was {})", a.name, b.name));
            }
        }
        fn index(p: &Plan) -> BTreeMap<AccountId, &PlannedAccount> {
            p.users.iter().map(|u| (u.account_id, u)).collect()
        }
        let (now, then) = (index(self), index(other));
        for (id, u) in &now {
            let name = u.display_name();
            match then.get(id) {
                None => out.push(format!("{name}: new in the plan ({})", u.outcome.as_str())),
                Some(t) if t.outcome != u.outcome || t.add != u.add => out.push(format!(
                    "{name}: was {} {:?}, now {} {:?}",
                    t.outcome.as_str(),
                    t.add,
                    u.outcome.as_str(),
                    u.add
                )),
                // A plan saved before plans showed restrictions: its approval did not see them.
                Some(t) if t.restrictions.is_none() && u.restrictions.is_some() => {
                    out.push(format!(
                        "{name}: restrictions not shown in the approved plan (the new share would carry {}); plan again",
                        u.restrictions
                            .as_ref()
                            .map_or("unknown".into(), restrictions::describe),
                    ))
                }
                // The new share would carry other restrictions than the ones approved.
                Some(t) if t.restrictions != u.restrictions => out.push(format!(
                    "{name}: the new share's restrictions are now {} (were {})",
                    u.restrictions
                        .as_ref()
                        .map_or("unknown".into(), restrictions::describe),
                    t.restrictions
                        .as_ref()
                        .map_or("unknown".into(), restrictions::describe),
                )),
                Some(_) => {}
            }
        }
        for (id, u) in &then {
            let name = u.display_name();
            if !now.contains_key(id) {
                out.push(format!("{name}: no longer in the plan"));
            }
        }
        out
    }
}

/// The comparison key for library names: trimmed, NFC, case-folded.
pub fn normalize_title(title: &str) -> String {
    title.trim().nfc().collect::<String>().to_lowercase()
}

/// How each source library maps to the destination, decided once for all accounts.
enum Mapping<'a> {
    To(&'a Library),
    Unavailable(String),
}

struct LibraryMatcher<'a> {
    mapping: BTreeMap<LibraryId, Mapping<'a>>,
    warnings: Vec<String>,
}

impl<'a> LibraryMatcher<'a> {
    fn new(source: &'a Server, dest: &'a Server, opts: &PlanOptions) -> Self {
        let mut warnings = Vec::new();
        let excluded: BTreeSet<String> = opts.exclude.iter().map(|t| normalize_title(t)).collect();
        let aliases: BTreeMap<String, String> = opts
            .aliases
            .iter()
            .map(|(s, d)| (normalize_title(s), normalize_title(d)))
            .collect();
        let source_names = index_by_name(&source.libraries);
        let dest_names = index_by_name(&dest.libraries);
        for (server, names) in [(source, &source_names), (dest, &dest_names)] {
            for libs in names.values().filter(|l| l.len() > 1) {
                warnings.push(format!(
                    "duplicate library name on {}: {}",
                    server.name,
                    libs[0].title.trim()
                ));
            }
        }

        let mut mapping = BTreeMap::new();
        for lib in &source.libraries {
            let name = normalize_title(&lib.title);
            let target = aliases.get(&name).cloned().unwrap_or_else(|| name.clone());
            let title = lib.title.trim();
            let decided = if excluded.contains(&name) || excluded.contains(&target) {
                Mapping::Unavailable(format!("'{title}' is excluded by config"))
            } else if source_names[&name].len() > 1 {
                Mapping::Unavailable(format!(
                    "'{title}' is ambiguous on {} (duplicate name), skipped",
                    source.name
                ))
            } else {
                match dest_names.get(&target).map(Vec::as_slice) {
                    None | Some([]) => {
                        Mapping::Unavailable(format!("'{title}' does not exist on {}", dest.name))
                    }
                    Some([found]) if found.kind != lib.kind && opts.require_same_type => {
                        warnings.push(type_warning(lib, found, source, dest, "not matched"));
                        Mapping::Unavailable(format!(
                            "'{title}' is {} on {} but {} on {}, and config requires equal types",
                            lib.kind, source.name, found.kind, dest.name
                        ))
                    }
                    Some([found]) => {
                        if found.kind != lib.kind {
                            warnings.push(type_warning(lib, found, source, dest, "matched anyway"));
                        }
                        Mapping::To(found)
                    }
                    Some(_) => Mapping::Unavailable(format!(
                        "'{title}' is ambiguous on {} (duplicate name), skipped",
                        dest.name
                    )),
                }
            };
            mapping.insert(lib.id, decided);
        }
        LibraryMatcher { mapping, warnings }
    }
}

fn type_warning(
    src: &Library,
    dst: &Library,
    source: &Server,
    dest: &Server,
    what: &str,
) -> String {
    format!(
        "library types differ: '{}' is {} on {} but {} on {} ({what})",
        src.title.trim(),
        src.kind,
        source.name,
        dst.kind,
        dest.name
    )
}

fn index_by_name(libraries: &[Library]) -> BTreeMap<String, Vec<&Library>> {
    let mut names: BTreeMap<String, Vec<&Library>> = BTreeMap::new();
    for lib in libraries {
        names
            .entry(normalize_title(&lib.title))
            .or_default()
            .push(lib);
    }
    names
}

fn matches_filter(account: &Account, filter: &str) -> bool {
    let wanted = filter.trim().to_lowercase();
    let same = |v: &Option<String>| v.as_deref().is_some_and(|v| v.to_lowercase() == wanted);
    account.id.0.to_string() == wanted
        || same(&account.username)
        || same(&account.email)
        || account.title.to_lowercase() == wanted
}

/// The restrictions a new share will carry; `None` when they must be copied and the read did
/// not return them (then no share is created: never one less restricted than its source).
fn new_share_restrictions(source_share: &Share, opts: &PlanOptions) -> Option<SharingSettings> {
    if opts.copy_restrictions {
        source_share.settings.clone()
    } else {
        Some(SharingSettings::default())
    }
}

/// What the source share's restrictions are compared with.
enum Compared<'a> {
    Existing(&'a Share),
    Planned(&'a SharingSettings),
    Nothing,
}

/// How the destination share is less restricted than the source share; notes where that cannot
/// be told, and where an update goes around settings plex.tv did not return.
fn compare_restrictions(
    source_share: &Share,
    dest: Compared<'_>,
    outcome: Outcome,
    source: &Server,
    dest_server: &Server,
    notes: &mut Vec<String>,
) -> Vec<String> {
    let dest_settings = match dest {
        Compared::Nothing => return Vec::new(),
        Compared::Planned(s) => Some(s),
        Compared::Existing(share) => {
            if share.settings.is_none() && outcome.writes() {
                notes.push(format!(
                    "plex.tv did not return this share's restrictions on {}; it is updated without them, so they stay as they are",
                    dest_server.name
                ));
            }
            share.settings.as_ref()
        }
    };
    match (source_share.settings.as_ref(), dest_settings) {
        (Some(s), Some(d)) => restrictions::less_restricted(s, d, &source.name),
        _ => {
            notes.push("restrictions not compared: plex.tv did not return them".to_string());
            Vec::new()
        }
    }
}

/// Plan the sync of `state.source` onto `state.dest`.
pub fn plan(state: &SharingState, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let source = &state.source.server;
    let dest = &state.dest.server;
    let matcher = LibraryMatcher::new(source, dest, opts);

    let wanted = |account: &Account| {
        opts.only_accounts.is_empty()
            || opts
                .only_accounts
                .iter()
                .any(|f| matches_filter(account, f))
    };

    let mut users = Vec::new();
    for (account_id, source_share) in &state.source.shares {
        let account = state.accounts.get(account_id).cloned().unwrap_or(Account {
            id: *account_id,
            username: None,
            email: None,
            title: String::new(),
            kind: AccountKind::Friend,
        });
        if !wanted(&account) {
            continue;
        }
        let seen: Vec<&Library> = match &source_share.access {
            Access::All => source.libraries.iter().collect(),
            Access::Libraries(ids) => source
                .libraries
                .iter()
                .filter(|l| ids.contains(&l.id))
                .collect(),
        };
        if seen.is_empty() {
            continue; // a share with no libraries is no source access
        }
        let mut source_libraries: Vec<String> = seen.iter().map(|l| l.title.clone()).collect();
        source_libraries.sort();

        let mut notes = Vec::new();
        let mut targets: BTreeMap<LibraryId, &Library> = BTreeMap::new();
        for lib in &seen {
            match &matcher.mapping[&lib.id] {
                Mapping::To(d) => {
                    targets.insert(d.id, d);
                }
                Mapping::Unavailable(why) => notes.push(why.clone()),
            }
        }

        let dest_share = state.dest.shares.get(account_id);
        let mut restrictions: Option<SharingSettings> = None;
        let (outcome, add): (Outcome, Vec<&Library>) = if source_share.state == ShareState::Pending
        {
            notes.push(format!(
                "the share on {} is still pending (invite not accepted)",
                source.name
            ));
            (Outcome::Skipped, vec![])
        } else {
            match dest_share {
                Some(s) if s.access == Access::All => (Outcome::DestAll, vec![]),
                _ if targets.is_empty() => (Outcome::NoMatch, vec![]),
                None if !opts.new_share => {
                    notes.push(format!("no share on {} and new_share is off", dest.name));
                    (Outcome::Skipped, vec![])
                }
                None => match new_share_restrictions(source_share, opts) {
                    Some(r) => {
                        restrictions = Some(r);
                        (Outcome::NewShare, targets.values().copied().collect())
                    }
                    None => {
                        notes.push(format!(
                            "plex.tv did not return the restrictions of the share on {}; no share is created on {} so none is less restricted than its source (plan again later)",
                            source.name, dest.name
                        ));
                        (Outcome::Skipped, vec![])
                    }
                },
                Some(s) => {
                    let missing: Vec<&Library> = targets
                        .values()
                        .copied()
                        .filter(|l| !s.access.contains(l.id))
                        .collect();
                    if s.state == ShareState::Pending {
                        notes.push(format!(
                            "the share on {} is pending (invite not accepted)",
                            dest.name
                        ));
                    }
                    match (missing.is_empty(), s.state) {
                        (true, _) => (Outcome::InSync, vec![]),
                        (false, ShareState::Pending) => (Outcome::Pending, missing),
                        (false, ShareState::Accepted) => (Outcome::Grant, missing),
                    }
                }
            }
        };
        let mut add_titles: Vec<String> = add.iter().map(|l| l.title.clone()).collect();
        add_titles.sort();
        let dest_settings = match dest_share {
            Some(s) => Compared::Existing(s),
            None => match &restrictions {
                Some(r) => Compared::Planned(r),
                None => Compared::Nothing,
            },
        };
        let less_restricted = compare_restrictions(
            source_share,
            dest_settings,
            outcome,
            source,
            dest,
            &mut notes,
        );
        users.push(PlannedAccount {
            account_id: account.id,
            username: account.username.clone(),
            email: account.email.clone(),
            title: account.title.clone(),
            kind: account.kind,
            outcome,
            source_libraries,
            add: add_titles,
            notes,
            restrictions,
            less_restricted,
            add_ids: add.iter().map(|l| l.id).collect(),
        });
    }

    let unknown: Vec<String> = opts
        .only_accounts
        .iter()
        .filter(|f| {
            !state
                .source
                .shares
                .keys()
                .any(|id| state.accounts.get(id).is_some_and(|a| matches_filter(a, f)))
        })
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(PlanError::UnknownAccounts {
            server: source.name.clone(),
            filters: unknown,
        });
    }

    let summary = PlanSummary {
        users_to_update: users
            .iter()
            .filter(|u| u.outcome.writes() && !u.add.is_empty())
            .count(),
        grants_to_add: users.iter().map(|u| u.add.len()).sum(),
    };
    Ok(Plan {
        schema: PLAN_SCHEMA,
        source: source.into(),
        dest: dest.into(),
        users,
        warnings: matcher.warnings,
        summary,
    })
}
