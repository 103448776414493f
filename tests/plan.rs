//! Planner table tests (every outcome, every naming pitfall) and property tests (never remove,
//! never propose a library the destination lacks).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sharesync::model::*;
use sharesync::plan::{plan, Outcome, PlanError, PlanOptions};

#[path = "plan/mutants.rs"]
mod mutants;

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
    assert!(
        u.notes.iter().any(|n| n.contains("new_share is off")),
        "{:?}",
        u.notes
    );
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
    assert!(u.notes.iter().any(|n| n.contains("pending")));
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
    assert!(u.notes.iter().any(|n| n.contains("excluded")));
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

fn set_settings(w: &mut World, on_source: bool, a: AccountId, settings: Option<SharingSettings>) {
    let side = if on_source {
        &mut w.state.source
    } else {
        &mut w.state.dest
    };
    side.shares.get_mut(&a).expect("share").settings = settings;
}

fn kid_filters() -> SharingSettings {
    SharingSettings {
        allow_sync: false,
        filter_movies: Some("contentRating=G%2CPG".into()),
        filter_television: Some("contentRating=TV-Y".into()),
        ..SharingSettings::default()
    }
}

#[test]
fn new_share_carries_the_source_restrictions() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let k = w.account(1001, "Kiddo", AccountKind::Managed);
    w.src(k, &["Movies"]);
    set_settings(&mut w, true, k, Some(kid_filters()));
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::NewShare);
    assert_eq!(u.restrictions, Some(kid_filters()));
    assert!(u.less_restricted.is_empty(), "{:?}", u.less_restricted);
    // Plan JSON (schema 1, additive): the restrictions the new share will carry.
    let json = serde_json::to_value(plan(&w.state, &PlanOptions::default()).unwrap()).unwrap();
    assert_eq!(
        json["users"][0]["restrictions"]["filter_movies"],
        "contentRating=G%2CPG"
    );
    assert!(json["users"][0].get("less_restricted").is_none());

    // copy_restrictions = false: plex.tv's defaults, and the plan warns they are looser.
    let opts = PlanOptions {
        copy_restrictions: false,
        ..PlanOptions::default()
    };
    let u = only(&w, &opts);
    assert_eq!(u.outcome, Outcome::NewShare);
    assert_eq!(u.restrictions, Some(SharingSettings::default()));
    assert_eq!(
        u.less_restricted,
        vec![
            "filterMovies none (on noodle: 'contentRating=G%2CPG')".to_string(),
            "filterTelevision none (on noodle: 'contentRating=TV-Y')".to_string(),
        ]
    );
    let p = plan(&w.state, &opts).unwrap();
    assert_eq!(p.less_restricted(), 1);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["users"][0]["less_restricted"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn new_share_is_not_planned_when_the_source_restrictions_were_not_returned() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let k = w.account(1001, "Kiddo", AccountKind::Managed);
    w.src(k, &["Movies"]);
    set_settings(&mut w, true, k, None);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Skipped);
    assert!(u.add.is_empty() && u.restrictions.is_none());
    assert!(
        u.notes[0].contains("did not return the restrictions"),
        "{:?}",
        u.notes
    );
    // Without copying, the defaults are known: the share is planned, but not compared.
    let opts = PlanOptions {
        copy_restrictions: false,
        ..PlanOptions::default()
    };
    let u = only(&w, &opts);
    assert_eq!(u.outcome, Outcome::NewShare);
    assert!(
        u.notes.iter().any(|n| n.contains("not compared")),
        "{:?}",
        u.notes
    );
}

#[test]
fn an_existing_share_less_restricted_than_its_source_is_warned_never_changed() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows"]);
    w.dst(a, &["Movies"]);
    set_settings(
        &mut w,
        true,
        a,
        Some(SharingSettings {
            filter_movies: Some("label!=Horror".into()),
            ..SharingSettings::default()
        }),
    );
    set_settings(
        &mut w,
        false,
        a,
        Some(SharingSettings {
            allow_sync: true,
            ..SharingSettings::default()
        }),
    );
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Grant);
    assert_eq!(u.restrictions, None, "only new shares carry restrictions");
    assert_eq!(
        u.less_restricted,
        vec![
            "filterMovies none (on noodle: 'label!=Horror')".to_string(),
            "allowSync on (off on noodle)".to_string(),
        ]
    );
    // A destination share whose settings were not returned: updated around them, said so.
    set_settings(&mut w, false, a, None);
    let u = only(&w, &PlanOptions::default());
    assert_eq!(u.outcome, Outcome::Grant);
    assert!(u.less_restricted.is_empty());
    assert!(
        u.notes.iter().any(|n| n.contains("updated without them")),
        "{:?}",
        u.notes
    );
}

#[test]
fn changed_source_restrictions_make_an_approved_new_share_stale() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let k = w.account(1001, "Kiddo", AccountKind::Managed);
    w.src(k, &["Movies"]);
    set_settings(&mut w, true, k, Some(kid_filters()));
    let approved = plan(&w.state, &PlanOptions::default()).unwrap();
    set_settings(&mut w, true, k, Some(SharingSettings::default()));
    let fresh = plan(&w.state, &PlanOptions::default()).unwrap();
    let diff = fresh.differences(&approved);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].contains("restrictions are now"), "{diff:?}");
}

#[test]
fn differences_name_what_changed() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows"]);
    let before = plan(&w.state, &PlanOptions::default()).unwrap();
    w.dst(a, &["Movies"]); // another admin granted Movies meanwhile
    let after = plan(&w.state, &PlanOptions::default()).unwrap();
    let diff = after.differences(&before);
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(diff[0].starts_with("alice: was new_share"), "{diff:?}");
}

// ---- properties ----

fn arb_access(n_libs: usize) -> impl Strategy<Value = Option<(bool, BTreeSet<usize>, bool)>> {
    // None: no share; Some((all, indices, pending))
    proptest::option::of((
        any::<bool>(),
        proptest::collection::btree_set(0..n_libs, 0..n_libs),
        any::<bool>(),
    ))
}

const TITLES: &[&str] = &[
    "Movies", "movies ", "TV Shows", "Kids", "KIDS", "Music", "Anime", "4K", "Docs",
];

fn arb_state() -> impl Strategy<Value = SharingState> {
    let libs = || proptest::collection::vec((0..TITLES.len(), any::<bool>()), 1..7);
    (
        libs(),
        libs(),
        proptest::collection::vec((arb_access(7), arb_access(7), any::<bool>()), 0..25),
    )
        .prop_map(|(src, dst, accounts)| {
            let to_libs = |v: &Vec<(usize, bool)>| -> Vec<(&str, &str)> {
                v.iter()
                    .map(|(t, m)| (TITLES[*t], if *m { "movie" } else { "show" }))
                    .collect()
            };
            let mut w = World::new(&to_libs(&src), &to_libs(&dst));
            for (i, (s, d, managed)) in accounts.into_iter().enumerate() {
                let kind = if managed {
                    AccountKind::Managed
                } else {
                    AccountKind::Friend
                };
                let id = w.account(1000 + i as u64, &format!("user{i}"), kind);
                for (on_source, spec) in [(true, s), (false, d)] {
                    if let Some((all, idx, pending)) = spec {
                        let server = if on_source {
                            &w.state.source.server
                        } else {
                            &w.state.dest.server
                        };
                        let access = if all {
                            Access::All
                        } else {
                            Access::Libraries(
                                idx.iter()
                                    .filter_map(|i| server.libraries.get(*i))
                                    .map(|l| l.id)
                                    .collect(),
                            )
                        };
                        let state = if pending {
                            ShareState::Pending
                        } else {
                            ShareState::Accepted
                        };
                        w.share(on_source, id, access, state);
                    }
                }
            }
            w.state
        })
}

proptest! {
    #[test]
    fn plans_only_add_libraries_the_destination_has(state in arb_state(), new_share in any::<bool>()) {
        let opts = PlanOptions { new_share, ..Default::default() };
        let p = plan(&state, &opts).unwrap();
        let dest_ids: BTreeSet<LibraryId> = state.dest.server.libraries.iter().map(|l| l.id).collect();
        let mut total = 0;
        for u in &p.users {
            prop_assert_eq!(u.add.len(), u.add_ids.len());
            total += u.add.len();
            // Never a library the destination lacks, never one the account already has.
            for id in &u.add_ids {
                prop_assert!(dest_ids.contains(id));
                if let Some(share) = state.dest.shares.get(&u.account_id) {
                    prop_assert!(!share.access.contains(*id));
                }
            }
            // Only writing outcomes carry additions; a destination with All is never touched.
            if !u.outcome.writes() { prop_assert!(u.add.is_empty()); }
            if u.outcome.writes() { prop_assert!(!u.add.is_empty()); }
            let source_pending = state.source.shares[&u.account_id].state == ShareState::Pending;
            if source_pending { prop_assert_eq!(u.outcome, Outcome::Skipped); }
            if let Some(share) = state.dest.shares.get(&u.account_id) {
                if share.access == Access::All && !source_pending { prop_assert_eq!(u.outcome, Outcome::DestAll); }
                prop_assert!(u.outcome != Outcome::NewShare);
            } else if !new_share {
                prop_assert!(u.outcome != Outcome::NewShare);
            }
            // Every added library is one the account sees on the source, by name.
            let seen: BTreeSet<String> = u.source_libraries.iter().map(|t| sharesync::plan::normalize_title(t)).collect();
            for t in &u.add { prop_assert!(seen.contains(&sharesync::plan::normalize_title(t))); }
        }
        prop_assert_eq!(p.summary.grants_to_add, total);
        // A plan's "after" state is a superset of the "before" state: applying it can only add.
        // (The plan has no removal to express; this checks it never lists a library as added
        // that the share already has, above, and that every source-access account appears.)
        let with_access = state.source.shares.values().filter(|s| match &s.access {
            Access::All => !state.source.server.libraries.is_empty(),
            Access::Libraries(ids) => !ids.is_empty(),
        }).count();
        prop_assert_eq!(p.users.len(), with_access);
    }

    #[test]
    fn planning_is_deterministic(state in arb_state()) {
        let a = plan(&state, &PlanOptions::default()).unwrap();
        let b = plan(&state, &PlanOptions::default()).unwrap();
        prop_assert_eq!(a, b);
    }
}
