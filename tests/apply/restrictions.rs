//! Restrictions are access too, applied against the
//! simulated plex.tv: existing shares' settings never change, even when a read left them out,
//! and new shares carry their source share's restrictions or are not created.

use super::*;
use sharesync::sandbox::CreatedSettings;

fn kid_settings() -> SettingsSpec {
    SettingsSpec {
        filter_movies: Some("contentRating=G%2CPG".into()),
        filter_television: Some("contentRating=TV-Y".into()),
        ..SettingsSpec::default()
    }
}

fn friend_settings() -> SettingsSpec {
    SettingsSpec {
        allow_sync: Some(true),
        allow_tuners: Some(1),
        filter_movies: Some("label!=Horror".into()),
        ..SettingsSpec::default()
    }
}

/// alice: grant on a destination share whose v2 reads leave settings out; Kiddo (managed) and
/// carol: new shares with the source's restrictions; erin: a new share whose SOURCE settings
/// v2 leaves out.
fn restricted_scenario() -> Scenario {
    let libs = [("Movies", "movie"), ("TV Shows", "show")];
    Scenario::builder()
        .server("noodle", &libs)
        .server("doodoo", &libs)
        .friend("alice")
        .friend("carol")
        .friend("erin")
        .managed("Kiddo")
        .share("noodle", "alice", ["Movies", "TV Shows"])
        .settings(friend_settings())
        .share("doodoo", "alice", ["Movies"])
        .settings(SettingsSpec {
            allow_sync: Some(true),
            filter_movies: Some("contentRating=PG-13".into()),
            ..SettingsSpec::default()
        })
        .omit_settings()
        .share("noodle", "Kiddo", ["Movies"])
        .settings(kid_settings())
        .share("noodle", "carol", ["TV Shows"])
        .settings(friend_settings())
        .share("noodle", "erin", ["Movies"])
        .settings(friend_settings())
        .omit_settings()
        .build()
}

fn result<'a>(report: &'a RunReport, name: &str) -> &'a sharesync::apply::AccountReport {
    report.accounts.iter().find(|a| a.name == name).expect(name)
}

fn user<'a>(p: &'a Plan, env: &Env, name: &str) -> &'a sharesync::plan::PlannedAccount {
    let id = AccountId(env.account(name));
    p.users.iter().find(|u| u.account_id == id).expect(name)
}

#[tokio::test]
async fn omitted_settings_are_never_reset_and_new_shares_carry_the_source_restrictions() {
    for family in FAMILIES {
        let env = env(restricted_scenario(), family).await;
        let p = env.plan().await;
        let alice = user(&p, &env, "alice");
        assert_eq!(alice.outcome, Outcome::Grant);
        let kiddo = user(&p, &env, "Kiddo");
        assert_eq!(kiddo.outcome, Outcome::NewShare);
        let shown = kiddo
            .restrictions
            .as_ref()
            .expect("restrictions in the plan");
        assert_eq!(shown.filter_movies.as_deref(), Some("contentRating=G%2CPG"));
        let erin = user(&p, &env, "erin");
        if family == ApiFamily::V2 {
            assert!(
                alice
                    .notes
                    .iter()
                    .any(|n| n.contains("updated without them")),
                "{:?}",
                alice.notes
            );
            // Source settings not returned: no share that could be less restricted.
            assert_eq!(erin.outcome, Outcome::Skipped, "{erin:?}");
        } else {
            // The legacy read carries them.
            assert_eq!(erin.outcome, Outcome::NewShare, "{erin:?}");
        }

        let before = env.sandbox.world();
        let report = env.apply(&p).await.expect("apply");
        assert_eq!(
            report.count(AccountResult::Applied),
            p.summary.users_to_update,
            "{family}: {report:#?}"
        );
        let after = env.sandbox.world();
        assert_eq!(
            env.titles(&env.dest, "alice"),
            ["Movies", "TV Shows"],
            "{family}: the grant landed"
        );
        // Byte for byte: every existing share's settings as before (check_wire), every new
        // share's equal to its source share's.
        env.check_wire();
        check_new_shares(&env, &before, &after, true);
        let alice_share = env.dest_share("alice").unwrap();
        assert_eq!(
            alice_share.settings.filter_movies.as_deref(),
            Some("contentRating=PG-13")
        );
        assert!(alice_share.settings.allow_sync);
        assert_eq!(
            env.dest_share("erin").is_some(),
            family == ApiFamily::Legacy
        );
        second_apply_writes_nothing(&env).await;
        env.check_wire();
    }
}

#[tokio::test]
async fn copy_restrictions_off_creates_with_plexs_defaults_and_warns() {
    for family in FAMILIES {
        let mut env = env(restricted_scenario(), family).await;
        env.options.copy_restrictions = false;
        let p = env.plan().await;
        let kiddo = user(&p, &env, "Kiddo");
        assert_eq!(kiddo.outcome, Outcome::NewShare);
        assert_eq!(kiddo.restrictions, Some(Default::default()));
        assert_eq!(
            kiddo.less_restricted.len(),
            2,
            "{:?}",
            kiddo.less_restricted
        );
        assert!(p.less_restricted() >= 2, "Kiddo and carol");
        let before = env.sandbox.world();
        let report = env.apply(&p).await.expect("apply");
        assert_eq!(
            report.count(AccountResult::Applied),
            p.summary.users_to_update
        );
        check_new_shares(&env, &before, &env.sandbox.world(), false);
        env.check_wire();
    }
}

#[tokio::test]
async fn a_refused_restriction_creates_nothing_and_says_so() {
    for family in FAMILIES {
        let scenario = Scenario::builder()
            .server("noodle", &[("Movies", "movie")])
            .server("doodoo", &[("Movies", "movie")])
            .managed("Kiddo")
            .restriction_profile("little_kid")
            .friend("carol")
            .share("noodle", "Kiddo", ["Movies"])
            .settings(SettingsSpec {
                filter_movies: Some("contentRating=G|label!=Scary".into()),
                ..SettingsSpec::default()
            })
            .share("noodle", "carol", ["Movies"])
            .settings(friend_settings())
            .build();
        let env = env(scenario, family).await;
        let p = env.plan().await;
        let before = env.sandbox.world();
        let report = env.apply(&p).await.expect("apply");
        let kiddo = result(&report, "Kiddo");
        assert_eq!(kiddo.result, AccountResult::Failed, "{family}: {kiddo:?}");
        let reason = kiddo.reason.as_deref().unwrap_or_default();
        assert!(
            reason.starts_with("plex.tv refused the request")
                && reason.contains("restriction profile")
                && reason.contains("a re-read shows no share"),
            "{family}: {reason}"
        );
        assert!(!kiddo.created_share);
        // Nothing created, and the same create was not sent again.
        let after = env.sandbox.world();
        assert!(env.dest_share("Kiddo").is_none());
        let creates = env
            .writes()
            .iter()
            .filter(|r| r.method == "POST" && !r.path.ends_with(|c: char| c.is_ascii_digit()))
            .count();
        assert_eq!(creates, 2, "{family}: one create each for Kiddo and carol");
        // The other account is not held back.
        assert_eq!(report.count(AccountResult::Applied), 1);
        check_new_shares(&env, &before, &after, true);
        env.check_wire();
    }
}

/// v2, a share whose settings were not returned, and the legacy PUT gone: nothing is written
/// (no v2 update that would reset them) and the account says why.
#[tokio::test]
async fn without_the_legacy_update_a_share_without_settings_is_not_written() {
    let env = env(restricted_scenario(), ApiFamily::V2).await;
    let p = env.plan().await;
    let alice_share = env.dest_share("alice").unwrap().id;
    env.sandbox.inject(Fault::new(
        FaultTarget::PathContains(format!("/shared_servers/{alice_share}")),
        FaultKind::ServerError(410),
        10,
    ));
    let report = env.apply(&p).await.expect("apply");
    let alice = result(&report, "alice");
    assert_eq!(alice.result, AccountResult::Failed, "{alice:?}");
    assert!(
        alice
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("not written, so they are not reset"),
        "{alice:?}"
    );
    assert_eq!(alice.requests, 1, "not retried");
    assert_eq!(env.titles(&env.dest, "alice"), ["Movies"]);
    env.check_wire();
}

/// Settings with a key missing (v2) or a filter attribute missing (legacy) are not known
/// settings: the destination share's are never sent back as defaults, and no new share is
/// copied from a source whose filters were not all read.
#[tokio::test]
async fn partial_settings_are_never_read_as_defaults() {
    for family in FAMILIES {
        let libs = [("Movies", "movie"), ("TV Shows", "show")];
        let scenario = Scenario::builder()
            .server("noodle", &libs)
            .server("doodoo", &libs)
            .friend("dana")
            .friend("frank")
            .share("noodle", "dana", ["Movies", "TV Shows"])
            .settings(friend_settings())
            .share("doodoo", "dana", ["Movies"])
            .settings(friend_settings())
            .partial_settings()
            .share("noodle", "frank", ["Movies"])
            .settings(friend_settings())
            .partial_settings()
            .build();
        let env = env(scenario, family).await;
        let p = env.plan().await;
        assert_eq!(user(&p, &env, "dana").outcome, Outcome::Grant);
        let frank = user(&p, &env, "frank");
        assert_eq!(frank.outcome, Outcome::Skipped, "{family}: {frank:?}");
        let report = env.apply(&p).await.expect("apply");
        assert_eq!(report.count(AccountResult::Applied), 1, "{report:#?}");
        assert_eq!(env.titles(&env.dest, "dana"), ["Movies", "TV Shows"]);
        let dana = env.dest_share("dana").unwrap();
        assert_eq!(
            dana.settings.filter_movies.as_deref(),
            Some("label!=Horror")
        );
        assert_eq!(dana.settings.allow_tuners, 1);
        assert!(env.dest_share("frank").is_none(), "{family}");
        env.check_wire();
    }
}

/// The legacy create has no photo or all-libraries filter: a new share whose source has one is
/// not created there (nothing sent), and the account says why; v2 creates it with the filter.
#[tokio::test]
async fn a_filter_the_legacy_create_cannot_carry_creates_nothing() {
    for (filter_photos, filter_all) in [
        (Some("label!=Private"), None),
        (None, Some("contentRating=G")),
    ] {
        for family in FAMILIES {
            let scenario = Scenario::builder()
                .server("noodle", &[("Movies", "movie"), ("Photos", "photo")])
                .server("doodoo", &[("Movies", "movie"), ("Photos", "photo")])
                .friend("gina")
                .share("noodle", "gina", ["Movies", "Photos"])
                .settings(SettingsSpec {
                    filter_photos: filter_photos.map(String::from),
                    filter_all: filter_all.map(String::from),
                    ..friend_settings()
                })
                .build();
            let env = env(scenario, family).await;
            let p = env.plan().await;
            assert_eq!(user(&p, &env, "gina").outcome, Outcome::NewShare);
            let before = env.sandbox.world();
            let report = env.apply(&p).await.expect("apply");
            let gina = result(&report, "gina");
            match family {
                ApiFamily::Legacy => {
                    assert_eq!(gina.result, AccountResult::Failed, "{gina:?}");
                    let reason = gina.reason.as_deref().unwrap_or_default();
                    assert!(reason.contains("legacy create cannot carry"), "{reason}");
                    assert!(env.dest_share("gina").is_none());
                    assert!(env.writes().is_empty(), "{:?}", env.writes());
                }
                ApiFamily::V2 => {
                    assert_eq!(gina.result, AccountResult::Applied, "{gina:?}");
                    let made = env.dest_share("gina").expect("created").settings;
                    assert_eq!(made.filter_photos.as_deref(), filter_photos);
                    assert_eq!(made.filter_all.as_deref(), filter_all);
                }
            }
            check_new_shares(&env, &before, &env.sandbox.world(), true);
            env.check_wire();
        }
    }
}

/// The read-back checks a new share's restrictions against the planned ones: looser fails the
/// account (the share stays), settings the read does not return are said, never assumed.
#[tokio::test]
async fn a_new_shares_restrictions_are_checked_after_the_create() {
    for family in FAMILIES {
        for created in [CreatedSettings::Ignored, CreatedSettings::Partial] {
            let scenario = Scenario::builder()
                .server("noodle", &[("Movies", "movie")])
                .server("doodoo", &[("Movies", "movie")])
                .friend("carol")
                .share("noodle", "carol", ["Movies"])
                .settings(friend_settings())
                .build();
            let env = env(scenario, family).await;
            env.sandbox.with_world(|w| w.created_settings = created);
            let p = env.plan().await;
            let report = env.apply(&p).await.expect("apply");
            let carol = result(&report, "carol");
            let reason = carol.reason.as_deref().unwrap_or_default();
            match created {
                CreatedSettings::Ignored => {
                    assert_eq!(carol.result, AccountResult::Failed, "{family}: {carol:?}");
                    assert!(
                        reason.contains("less restricted than planned")
                            && reason.contains("filterMovies"),
                        "{family}: {reason}"
                    );
                }
                _ => {
                    assert_eq!(carol.result, AccountResult::Applied, "{family}: {carol:?}");
                    assert!(
                        reason.contains("restrictions not verified"),
                        "{family}: {reason}"
                    );
                }
            }
            assert!(carol.created_share);
            assert_eq!(env.titles(&env.dest, "carol"), ["Movies"], "never removed");
            env.check_wire();
        }
    }
}

/// v2, a pending share whose settings were not returned, and a legacy PUT that answers 404 for
/// pending shares: not retried, no v2 update, and the account says why.
#[tokio::test]
async fn a_legacy_put_refused_on_a_pending_share_writes_nothing() {
    let scenario = Scenario::builder()
        .server("noodle", &[("Movies", "movie"), ("TV Shows", "show")])
        .server("doodoo", &[("Movies", "movie"), ("TV Shows", "show")])
        .friend("hana")
        .share("noodle", "hana", ["Movies", "TV Shows"])
        .settings(friend_settings())
        .pending_share("doodoo", "hana", ["Movies"])
        .settings(friend_settings())
        .omit_settings()
        .build();
    let env = env(scenario, ApiFamily::V2).await;
    env.sandbox
        .with_world(|w| w.legacy_put_refuses_pending = true);
    let p = env.plan().await;
    let report = env.apply(&p).await.expect("apply");
    let hana = result(&report, "hana");
    assert_eq!(hana.result, AccountResult::Failed, "{hana:?}");
    let reason = hana.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("does not take this share") && reason.contains("not reset"),
        "{reason}"
    );
    assert_eq!(hana.requests, 1, "not retried");
    let writes = env.writes();
    assert!(
        writes.iter().all(|r| !r.path.starts_with("/api/v2/")),
        "no v2 update: {writes:?}"
    );
    env.check_wire();
}

/// A refused create whose re-read shows no share ends with plex.tv's own words, whatever the
/// refusal was about.
#[tokio::test]
async fn a_refused_create_says_what_plex_said() {
    for family in FAMILIES {
        let scenario = Scenario::builder()
            .server("noodle", &[("Movies", "movie")])
            .server("doodoo", &[("Movies", "movie")])
            .friend("ivan")
            .share("noodle", "ivan", ["Movies"])
            .build();
        let env = env(scenario, family).await;
        let p = env.plan().await;
        env.sandbox.inject(Fault::new(
            FaultTarget::Writes,
            FaultKind::ServerError(400),
            10,
        ));
        let report = env.apply(&p).await.expect("apply");
        let ivan = result(&report, "ivan");
        assert_eq!(ivan.result, AccountResult::Failed, "{family}: {ivan:?}");
        let reason = ivan.reason.as_deref().unwrap_or_default();
        assert!(
            reason.starts_with("plex.tv refused the request (400)")
                && reason.contains("a re-read shows no share")
                && !reason.contains("restrictions"),
            "{family}: {reason}"
        );
        assert_eq!(ivan.requests, 1, "{family}: the create was not sent again");
        assert!(env.dest_share("ivan").is_none());
    }
}
