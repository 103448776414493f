//! Planner table tests (every outcome, every naming pitfall) and property tests (never remove,
//! never propose a library the destination lacks).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sharesync::model::*;
use sharesync::plan::{plan, Outcome, PlanError, PlanOptions};

#[path = "plan/mutants.rs"]
mod mutants;
#[path = "plan/properties.rs"]
mod properties;
#[path = "plan/restrictions.rs"]
mod restrictions;

const SRC: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DST: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Libraries get ids far from their keys so a mix-up fails.
fn server(name: &str, mid: &str, base: u64, libs: &[(&str, &str)]) -> Server {
    Server {
        name: name.into(),
        machine_id: MachineId(mid.into()),
        libraries: libs
            .iter()
            .enumerate()
            .map(|(i, (title, kind))| Library {
                id: LibraryId(base + i as u64 * 7),
                key: LibraryKey(i as u64 + 1),
                title: (*title).into(),
                kind: (*kind).into(),
            })
            .collect(),
    }
}

fn lib_ids(s: &Server, titles: &[&str]) -> Access {
    Access::Libraries(
        titles
            .iter()
            .map(|t| {
                s.libraries
                    .iter()
                    .find(|l| l.title == *t)
                    .unwrap_or_else(|| panic!("no {t}"))
                    .id
            })
            .collect(),
    )
}

struct World {
    state: SharingState,
    next_share: u64,
}

impl World {
    fn new(src: &[(&str, &str)], dst: &[(&str, &str)]) -> World {
        World {
            state: SharingState {
                accounts: BTreeMap::new(),
                source: ServerSharing {
                    server: server("noodle", SRC, 118_000_000, src),
                    shares: BTreeMap::new(),
                },
                dest: ServerSharing {
                    server: server("doodoo", DST, 229_000_000, dst),
                    shares: BTreeMap::new(),
                },
            },
            next_share: 5_500_000,
        }
    }

    fn account(&mut self, id: u64, name: &str, kind: AccountKind) -> AccountId {
        let managed = kind == AccountKind::Managed;
        self.state.accounts.insert(
            AccountId(id),
            Account {
                id: AccountId(id),
                username: (!managed).then(|| name.to_string()),
                email: (!managed).then(|| format!("{name}@example.com")),
                title: name.to_string(),
                kind,
            },
        );
        AccountId(id)
    }

    fn share(&mut self, on_source: bool, account: AccountId, access: Access, state: ShareState) {
        self.next_share += 1;
        let share = Share {
            id: ShareId(self.next_share),
            account,
            state,
            access,
            settings: Some(SharingSettings::default()),
        };
        let side = if on_source {
            &mut self.state.source
        } else {
            &mut self.state.dest
        };
        side.shares.insert(account, share);
    }

    fn src(&mut self, account: AccountId, titles: &[&str]) {
        let access = lib_ids(&self.state.source.server, titles);
        self.share(true, account, access, ShareState::Accepted);
    }

    fn dst(&mut self, account: AccountId, titles: &[&str]) {
        let access = lib_ids(&self.state.dest.server, titles);
        self.share(false, account, access, ShareState::Accepted);
    }
}

const MOVIES_TV: &[(&str, &str)] = &[("Movies", "movie"), ("TV Shows", "show")];

fn only(w: &World, opts: &PlanOptions) -> sharesync::plan::PlannedAccount {
    let p = plan(&w.state, opts).expect("plan");
    assert_eq!(p.users.len(), 1, "{:#?}", p.users);
    p.users[0].clone()
}

/// One of `u`'s notes says `needle`.
fn assert_noted(u: &sharesync::plan::PlannedAccount, needle: &str) {
    assert!(
        u.notes.iter().any(|n| n.contains(needle)),
        "no note says {needle:?}: {:?}",
        u.notes
    );
}

#[test]
fn grant_adds_missing_libraries_by_destination_title() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows"]);
    w.dst(a, &["Movies"]);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Grant);
    assert_eq!(u.add, vec!["TV Shows"]);
    assert_eq!(u.source_libraries, vec!["Movies", "TV Shows"]);
    // The global id of the destination library, never its key.
    let tv = &w.state.dest.server.libraries[1];
    assert_eq!(u.add_ids, BTreeSet::from([tv.id]));
}

#[test]
fn new_share_when_destination_has_none_and_skipped_when_turned_off() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies"]);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(
        (u.outcome, u.add.clone()),
        (Outcome::NewShare, vec!["Movies".to_string()])
    );

    let off = PlanOptions {
        new_share: false,
        ..Default::default()
    };
    let u = only(&w, &off);
    assert_eq!(u.outcome, Outcome::Skipped);
    assert!(u.add.is_empty());
    assert_noted(&u, "new_share is off");
}

#[test]
fn in_sync_when_nothing_is_missing() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies"]);
    w.dst(a, &["Movies", "TV Shows"]);
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(p.users[0].outcome, Outcome::InSync);
    assert_eq!(p.summary.users_to_update, 0);
    assert_eq!(p.summary.grants_to_add, 0);
}

#[test]
fn all_on_source_counts_as_every_source_library() {
    let mut w = World::new(
        &[("Movies", "movie"), ("TV Shows", "show"), ("Anime", "show")],
        MOVIES_TV,
    );
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.share(true, a, Access::All, ShareState::Accepted);
    w.dst(a, &["Movies"]);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Grant);
    assert_eq!(u.add, vec!["TV Shows"]);
    assert_eq!(u.source_libraries, vec!["Anime", "Movies", "TV Shows"]);
    assert!(u
        .notes
        .iter()
        .any(|n| n.contains("'Anime' does not exist on doodoo")));
}

#[test]
fn all_on_destination_needs_nothing() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies"]);
    w.share(false, a, Access::All, ShareState::Accepted);
    let u = only(&w, &PlanOptions::default());
    assert_eq!((u.outcome, u.add.len()), (Outcome::DestAll, 0));
}

#[test]
fn pending_destination_share_is_updated_and_said_so() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows"]);
    let access = lib_ids(&w.state.dest.server, &["Movies"]);
    w.share(false, a, access, ShareState::Pending);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Pending);
    assert_eq!(u.add, vec!["TV Shows"]);
    assert_noted(&u, "pending");
}

#[test]
fn pending_source_share_is_skipped_with_a_reason() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    let access = lib_ids(&w.state.source.server, &["Movies"]);
    w.share(true, a, access, ShareState::Pending);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Skipped);
    assert!(u.notes[0].contains("pending"));
}

#[test]
fn managed_users_are_planned_by_account_id() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let kid = w.account(1002, "Kid", AccountKind::Managed);
    w.src(kid, &["Movies"]);
    w.dst(kid, &[]);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.kind, AccountKind::Managed);
    assert_eq!((u.username.clone(), u.email.clone()), (None, None));
    assert_eq!(u.outcome, Outcome::Grant);
    assert_eq!(u.display_name(), "Kid");
}

#[test]
fn no_match_when_nothing_on_the_source_exists_on_the_destination() {
    let mut w = World::new(&[("Anime", "show")], MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Anime"]);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::NoMatch);
    assert!(u.add.is_empty());
}

#[test]
fn accounts_without_source_access_do_not_appear() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    let b = w.account(1003, "bob", AccountKind::Friend);
    w.dst(a, &["Movies"]);
    w.src(b, &[]); // a share with no libraries is no access
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert!(p.users.is_empty());
}

#[test]
fn case_whitespace_and_unicode_forms_match() {
    // "Café" precomposed on one side, decomposed on the other.
    let mut w = World::new(
        &[("  movies ", "movie"), ("Caf\u{e9}", "movie")],
        &[("MOVIES", "movie"), ("Cafe\u{301}", "movie")],
    );
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["  movies ", "Caf\u{e9}"]);
    w.dst(a, &[]);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.add, vec!["Cafe\u{301}", "MOVIES"]);
}

#[test]
fn duplicate_name_is_ambiguous_skipped_with_a_warning() {
    let mut w = World::new(
        &[("Movies", "movie"), ("Kids", "movie")],
        &[("Movies", "movie"), ("Kids", "movie"), ("kids ", "show")],
    );
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "Kids"]);
    w.dst(a, &[]);
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(p.users[0].add, vec!["Movies"]);
    assert!(
        p.warnings
            .contains(&"duplicate library name on doodoo: Kids".to_string()),
        "{:?}",
        p.warnings
    );
    assert!(p.users[0].notes.iter().any(|n| n.contains("ambiguous")));

    // On the source side too.
    let mut w = World::new(&[("Kids", "movie"), ("KIDS", "show")], &[("Kids", "movie")]);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Kids"]);
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(p.users[0].outcome, Outcome::NoMatch);
    assert!(p.warnings[0].starts_with("duplicate library name on noodle"));
}

#[test]
fn type_mismatch_matches_with_a_warning_unless_config_requires_equal_types() {
    let mut w = World::new(&[("Music", "artist")], &[("Music", "photo")]);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Music"]);
    w.dst(a, &[]);
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(p.users[0].add, vec!["Music"]);
    assert!(p.warnings[0].contains("types differ"), "{:?}", p.warnings);

    let strict = PlanOptions {
        require_same_type: true,
        ..Default::default()
    };
    let p = plan(&w.state, &strict).unwrap();
    assert_eq!(p.users[0].outcome, Outcome::NoMatch);
    assert!(p.users[0].notes[0].contains("requires equal types"));
}

#[test]
fn alias_maps_a_source_title_to_a_different_destination_title() {
    let mut w = World::new(&[("Movies 4K", "movie")], &[("4K Movies", "movie")]);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies 4K"]);
    w.dst(a, &[]);
    assert_eq!(only(&w, &PlanOptions::default()).outcome, Outcome::NoMatch);
    let opts = PlanOptions {
        aliases: BTreeMap::from([("movies 4k ".to_string(), "4K MOVIES".to_string())]),
        ..Default::default()
    };
    assert_eq!(only(&w, &opts).add, vec!["4K Movies"]);
}

#[test]
fn exclusion_removes_a_library_from_the_sync() {
    let mut w = World::new(
        &[("Movies", "movie"), ("Home Videos", "movie")],
        &[("Movies", "movie"), ("Home Videos", "movie")],
    );
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "Home Videos"]);
    w.dst(a, &[]);
    let opts = PlanOptions {
        exclude: vec!["home videos".into()],
        ..Default::default()
    };
    let u = only(&w, &opts);
    assert_eq!(u.add, vec!["Movies"]);
    assert_noted(&u, "excluded");
}

#[test]
fn account_filter_matches_username_email_title_or_id_case_insensitively() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    for (id, name) in [(1001, "alice"), (1003, "bob"), (1005, "carol")] {
        let a = w.account(id, name, AccountKind::Friend);
        w.src(a, &["Movies"]);
    }
    let kid = w.account(1007, "Little One", AccountKind::Managed);
    w.src(kid, &["Movies"]);
    let opts = |f: &[&str]| PlanOptions {
        only_accounts: f.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let ids = |f: &[&str]| -> Vec<u64> {
        plan(&w.state, &opts(f))
            .unwrap()
            .users
            .iter()
            .map(|u| u.account_id.0)
            .collect()
    };
    assert_eq!(ids(&["ALICE"]), vec![1001]);
    assert_eq!(ids(&["Bob@Example.com", "1005"]), vec![1003, 1005]);
    assert_eq!(ids(&["little one"]), vec![1007]);

    let err = plan(&w.state, &opts(&["alice", "nobody"])).unwrap_err();
    let PlanError::UnknownAccounts { filters, .. } = &err;
    assert_eq!(filters, &vec!["nobody".to_string()]);
    assert!(err.to_string().contains("'nobody'"));
}

#[test]
fn plan_json_is_schema_1() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1234, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows"]);
    w.dst(a, &["Movies"]);
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "schema": 1,
            "source": {"name": "noodle", "machine_identifier": SRC},
            "dest": {"name": "doodoo", "machine_identifier": DST},
            "users": [{"account_id": 1234, "username": "alice", "email": "alice@example.com",
                       "title": "alice", "kind": "friend", "outcome": "grant",
                       "source_libraries": ["Movies", "TV Shows"], "add": ["TV Shows"], "notes": []}],
            "warnings": [],
            "summary": {"users_to_update": 1, "grants_to_add": 1}
        })
    );
    // A saved plan reads back and compares equal in what it changes.
    let back: sharesync::plan::Plan = serde_json::from_value(json).unwrap();
    assert!(p.differences(&back).is_empty());
}

/// Set the settings of account `a`'s share on the source (or the destination).
fn set_settings(w: &mut World, on_source: bool, a: AccountId, settings: Option<SharingSettings>) {
    let side = if on_source {
        &mut w.state.source
    } else {
        &mut w.state.dest
    };
    side.shares.get_mut(&a).expect("share").settings = settings;
}

/// A child's filters: no sync, G/PG movies, TV-Y shows.
fn kid_filters() -> SharingSettings {
    SharingSettings {
        allow_sync: false,
        filter_movies: Some("contentRating=G%2CPG".into()),
        filter_television: Some("contentRating=TV-Y".into()),
        ..SharingSettings::default()
    }
}
