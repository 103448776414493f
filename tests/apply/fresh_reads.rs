//! A write decided on an older read reads its share again first, so the owner's changes made
//! since are kept.

use super::*;

/// The owner changes a share between the stale check's read and the write (revokes Music from
/// alice, gives her Kids instead). Once that read is older than `max_snapshot_age_seconds`
/// (here 0: always), alice's share is read again on its own just before her write, so the
/// revoked library is not granted back and the new one is kept.
#[tokio::test]
async fn a_revoke_just_before_the_write_is_not_granted_back() {
    for family in FAMILIES {
        let mut env = env(small_scenario(), family).await;
        env.limits.max_snapshot_age_seconds = 0.0;
        let p = env.plan().await;
        let alice = env.account("alice");
        let (music, kids) = (
            env.section("doodoo", "Music"),
            env.section("doodoo", "Kids"),
        );
        let owner_edits = |progress: Progress| {
            if let Progress::Started { .. } = progress {
                env.edit_dest_share(alice, |share| {
                    share.section_ids = [kids].into();
                });
            }
        };
        let report = apply(&env.client, &env.store, &env.job(&p), owner_edits)
            .await
            .expect("apply");
        assert_eq!(report.status, RunStatus::Finished);
        let now = env.visible(&env.dest, "alice").unwrap();
        assert!(
            !now.contains(&music),
            "{family:?}: revoked Music came back: {now:?}"
        );
        assert!(
            now.contains(&kids),
            "{family:?}: the owner's Kids was dropped"
        );
        for title in ["Movies", "TV Shows"] {
            assert!(
                now.contains(&env.section("doodoo", title)),
                "{family:?}: {title}"
            );
        }
    }
}

/// The owner tightens alice's filter on the destination after the stale check; her write comes
/// from a read older than `max_snapshot_age` (here 0: always), so her share is read again, and
/// the write must not send the earlier read's settings back (a v2 update replaces them).
#[tokio::test]
async fn a_settings_change_after_the_read_is_not_undone() {
    for family in FAMILIES {
        let mut env = env(small_scenario(), family).await;
        env.limits.max_snapshot_age_seconds = 0.0;
        let p = env.plan().await;
        let alice = env.account("alice");
        let tightened = Some("contentRating=G".to_string());
        let owner_edits = |progress: Progress| {
            if let Progress::Started { .. } = progress {
                env.edit_dest_share(alice, |share| {
                    share.settings.filter_movies = tightened.clone();
                    share.settings.allow_sync = false;
                });
            }
        };
        let report = apply(&env.client, &env.store, &env.job(&p), owner_edits)
            .await
            .expect("apply");
        assert_eq!(report.status, RunStatus::Finished);
        let share = env.dest_share("alice").unwrap();
        assert_eq!(share.settings.filter_movies, tightened, "{family:?}");
        assert!(
            !share.settings.allow_sync,
            "{family:?}: allowSync came back"
        );
        assert!(
            share.section_ids.contains(&env.section("doodoo", "Movies")),
            "{family:?}: the grant landed"
        );
    }
}

/// A write that waited for its slot while plex.tv's `Retry-After` paused every writer is not
/// sent from the read it was decided on: carol's share, changed by the owner during the pause,
/// is read again after the wait, so the library the owner revoked is not granted back.
#[tokio::test]
async fn a_write_that_waited_out_a_pause_reads_its_share_again() {
    for family in FAMILIES {
        let mut env = env(small_scenario(), family).await;
        env.limits.max_snapshot_age_seconds = 1.0;
        env.limits.concurrency = 2;
        let p = env.plan().await;
        let alice_share = env.dest_share("alice").unwrap().id;
        let carol = env.account("carol");
        let (kids, movies) = (
            env.section("doodoo", "Kids"),
            env.section("doodoo", "Movies"),
        );
        env.sandbox.inject(Fault::new(
            FaultTarget::WritesTo(format!("shared_servers/{alice_share}")),
            FaultKind::RateLimit {
                retry_after_secs: Some(2),
            },
            1,
        ));
        let owner_edits = |progress: Progress| {
            if let Progress::Retrying { .. } = progress {
                env.edit_dest_share(carol, |share| {
                    share.section_ids = [movies].into();
                });
            }
        };
        let report = apply(&env.client, &env.store, &env.job(&p), owner_edits)
            .await
            .expect("apply");
        assert_eq!(report.status, RunStatus::Finished);
        assert!(
            report.summary.write_requests > 4,
            "alice's write was retried"
        );
        let now = env.visible(&env.dest, "carol").unwrap();
        assert!(
            !now.contains(&kids),
            "{family:?}: the revoked Kids came back: {now:?}"
        );
        assert!(
            now.contains(&movies),
            "{family:?}: the owner's Movies was dropped"
        );
    }
}
