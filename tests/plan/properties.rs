//! Properties: the planner never removes access and never proposes a library the destination
//! lacks.

use super::*;

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
