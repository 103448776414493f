//! Restrictions are access: a new share carries its source share's restrictions or is not
//! planned; an existing share is never changed, only warned about.

use super::*;

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
    assert_noted(&u, "not compared");
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
    assert_noted(&u, "updated without them");
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
