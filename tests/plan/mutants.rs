//! Tests that kill mutants `cargo mutants` found surviving in the planner (see
//! docs/mutation.md).

use super::*;

/// The stale check: a plan whose account keeps its outcome but now adds other libraries is
/// not the approved plan (its approval did not cover those libraries).
#[test]
fn differences_catch_other_libraries_under_the_same_outcome() {
    let three = &[
        ("Movies", "movie"),
        ("TV Shows", "show"),
        ("Music", "artist"),
    ];
    let mut w = World::new(three, three);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows", "Music"]);
    w.dst(a, &["Movies"]);
    let approved = plan(&w.state, &PlanOptions::default()).unwrap();
    w.dst(a, &["Movies", "Music"]); // another admin granted Music meanwhile
    let fresh = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(fresh.users[0].outcome, approved.users[0].outcome);
    let diff = fresh.differences(&approved);
    assert_eq!(
        diff,
        [r#"alice: was grant ["Music", "TV Shows"], now grant ["TV Shows"]"#]
    );
    assert!(approved.differences(&approved).is_empty());
}

/// The counts front ends show: accounts per outcome, and accounts whose destination share is
/// less restricted than their source share.
#[test]
fn plan_counts_accounts_per_outcome_and_less_restricted() {
    let mut w = World::new(MOVIES_TV, MOVIES_TV);
    let a = w.account(1001, "alice", AccountKind::Friend);
    w.src(a, &["Movies", "TV Shows"]);
    w.dst(a, &["Movies"]);
    let b = w.account(1003, "bob", AccountKind::Friend);
    w.src(b, &["Movies"]);
    w.dst(b, &["Movies"]);
    let c = w.account(1005, "carol", AccountKind::Friend);
    w.src(c, &["TV Shows"]);
    w.dst(c, &["Movies"]);
    let d = w.account(1007, "dave", AccountKind::Friend);
    w.src(d, &["Movies"]);
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(p.count(Outcome::Grant), 2);
    assert_eq!(p.count(Outcome::InSync), 1);
    assert_eq!(p.count(Outcome::NewShare), 1);
    assert_eq!(p.count(Outcome::DestAll), 0);
    assert_eq!(p.less_restricted(), 0);

    set_settings(&mut w, true, a, Some(kid_filters()));
    set_settings(&mut w, true, b, Some(kid_filters()));
    let p = plan(&w.state, &PlanOptions::default()).unwrap();
    assert_eq!(p.less_restricted(), 2, "alice and bob: {:#?}", p.users);
}
