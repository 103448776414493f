//! Undo removes exactly what a run added, and only what the admin confirmed.

use super::*;

/// Undo removes exactly the run's grants that are still present: a library added by hand
/// afterwards stays; a share the run created (and that holds only its grants) is deleted; a
/// share that would be left empty but predates the run is left alone; undoing twice does
/// nothing more.
#[tokio::test]
async fn undo_removes_exactly_what_the_run_added() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let (_, report) = env.plan_and_apply().await;
        let dest = env.mid(&env.dest);
        let (alice, carol, kiddo, bob) = (
            env.account("alice"),
            env.account("carol"),
            env.account("Kiddo"),
            env.account("bob"),
        );
        let kids = env.section("doodoo", "Kids");
        let music = env.section("doodoo", "Music");
        let bob_share = env.sandbox.world().share_for(&dest, bob).unwrap().id;
        env.sandbox.with_world(|w| {
            for s in w.shares.values_mut().filter(|s| s.machine_id == dest) {
                if s.account_id == Some(alice) {
                    s.section_ids.insert(kids); // another admin adds Kids by hand
                }
                if s.account_id == Some(carol) {
                    // carol's original Kids is removed by hand: only the run's Music is left
                    s.section_ids.remove(&kids);
                }
            }
        });
        let before_undo = env.sandbox.world();

        let preview = plan_undo(&env.client, &env.store, report.run)
            .await
            .unwrap();
        let action = |name: &str| {
            preview
                .accounts
                .iter()
                .find(|a| a.name == name)
                .unwrap()
                .action
                .clone()
        };
        assert!(
            matches!(action("alice"), UndoAction::Remove { keep: 2, .. }),
            "{:?}",
            action("alice")
        );
        assert!(matches!(action("bob"), UndoAction::DeleteShare { .. }));
        assert!(matches!(action("Kiddo"), UndoAction::DeleteShare { .. }));
        assert!(matches!(action("carol"), UndoAction::Skip(_)));
        assert_eq!(preview.removals(), 2 + 4 + 1);
        assert_eq!(env.sandbox.world(), before_undo, "a preview writes nothing");

        env.sandbox.clear_requests();
        let mut job = UndoJob::new(report.run, &env.limits, &env.trigger);
        job.retry = RetryPolicy::fast();
        let undone = undo(&env.client, &env.store, &job, |_| {}).await.unwrap();
        assert_eq!(undone.status, RunStatus::Finished);
        assert_eq!(
            env.titles(&env.dest, "alice"),
            ["Kids", "Music"],
            "{family}"
        );
        assert!(
            env.sandbox.world().share_for(&dest, bob).is_none(),
            "bob's share was the run's"
        );
        assert!(env.sandbox.world().share_for(&dest, kiddo).is_none());
        assert_eq!(
            env.visible(&env.dest, "carol"),
            Some([music].into()),
            "never emptied"
        );
        let carol_report = undone.accounts.iter().find(|a| a.name == "carol").unwrap();
        assert_eq!(carol_report.result, AccountResult::Skipped);
        // Exactly: nothing else changed anywhere.
        let after = env.sandbox.world();
        for s in &before_undo.servers {
            for a in before_undo.accounts.keys() {
                let had = before_undo
                    .visible_section_ids(&s.machine_id, *a)
                    .unwrap_or_default();
                let has = after
                    .visible_section_ids(&s.machine_id, *a)
                    .unwrap_or_default();
                let removed: BTreeSet<u64> = had.difference(&has).copied().collect();
                let expected: BTreeSet<u64> = if s.machine_id != dest {
                    BTreeSet::new()
                } else if *a == alice {
                    [
                        env.section("doodoo", "Movies"),
                        env.section("doodoo", "TV Shows"),
                    ]
                    .into()
                } else if *a == bob {
                    had.clone()
                } else if *a == kiddo {
                    [kids].into()
                } else {
                    BTreeSet::new()
                };
                assert_eq!(removed, expected, "{family}: account {a} on {}", s.name);
                assert!(has.is_subset(&had), "undo never adds");
            }
        }
        let deleted: Vec<String> = env
            .writes()
            .iter()
            .filter(|r| r.method == "DELETE")
            .map(|r| r.path.clone())
            .collect();
        assert_eq!(deleted.len(), 2, "{deleted:?}");
        assert!(deleted
            .iter()
            .any(|p| p.ends_with(&format!("/{bob_share}"))));
        check_requests(&env.sandbox, &before_undo, &after, family);
        check_settings(&before_undo, &after);

        // The record: an undo run pointing at the apply run; the undone grants marked.
        let detail = env.store.run(undone.run).unwrap();
        assert_eq!(detail.run.undo_of, Some(report.run));
        assert!(detail
            .grants
            .iter()
            .all(|g| g.action == GrantAction::Remove));
        let original = env.store.grants_of_run(report.run).unwrap();
        let marked = original
            .iter()
            .filter(|g| g.undone_by == Some(undone.run))
            .count();
        assert_eq!(marked, 7, "all but carol's Music");

        // Twice: nothing more is written.
        env.sandbox.clear_requests();
        let again = undo(&env.client, &env.store, &job, |_| {}).await.unwrap();
        assert!(env.writes().is_empty(), "{family}: second undo wrote");
        assert_eq!(again.summary.write_requests, 0);
    }
}

/// The admin confirmed an undo preview; before the removal, another admin changes a share the
/// run touched. The undo compares its fresh read with the confirmed preview and removes nothing
/// (like an apply's stale check), handing back the new preview.
#[tokio::test]
async fn an_undo_whose_preview_changed_after_confirmation_removes_nothing() {
    for family in FAMILIES {
        let env = env(small_scenario(), family).await;
        let (_, report) = env.plan_and_apply().await;
        let preview = plan_undo(&env.client, &env.store, report.run)
            .await
            .unwrap();
        assert!(preview.removals() > 0);
        let alice = env.account("alice");
        let kids = env.section("doodoo", "Kids");
        env.edit_dest_share(alice, |share| {
            share.section_ids.insert(kids); // changes what alice's undo keeps
        });
        let writes_before = env.writes().len();
        let mut job = UndoJob::new(report.run, &env.limits, &env.trigger);
        job.retry = RetryPolicy::fast();
        job.confirmed = Some(&preview);
        let e = undo(&env.client, &env.store, &job, |_| {})
            .await
            .unwrap_err();
        let ApplyError::UndoChanged { now, .. } = e else {
            panic!("{family:?}: {e:?}")
        };
        assert_ne!(now.accounts, preview.accounts);
        assert_eq!(env.writes().len(), writes_before, "nothing removed");
        assert_eq!(env.store.runs(10).unwrap().len(), 1, "no undo run recorded");
    }
}

/// A grant credited only because a later read found it (its write's answer was lost) is
/// recorded unconfirmed, and undo keeps it: it may have come from somewhere else.
#[tokio::test]
async fn undo_keeps_grants_plex_tv_never_confirmed() {
    for family in FAMILIES {
        let env = env_with(small_scenario(), family, Duration::from_millis(400)).await;
        let alice_share = env
            .sandbox
            .world()
            .share_for(&env.mid(&env.dest), env.account("alice"))
            .unwrap()
            .id;
        env.sandbox.inject(Fault::new(
            FaultTarget::PathContains(format!("shared_servers/{alice_share}")),
            FaultKind::Delay(Duration::from_millis(1500)), // lands; the answer times out
            1,
        ));
        let (_, report) = env.plan_and_apply().await;
        let grants = env.store.grants_of_run(report.run).unwrap();
        let (alices, others): (Vec<_>, Vec<_>) =
            grants.iter().partition(|g| g.account_name == "alice");
        assert!(
            !alices.is_empty() && alices.iter().all(|g| g.unconfirmed),
            "{alices:?}"
        );
        assert!(others.iter().all(|g| !g.unconfirmed));
        let preview = plan_undo(&env.client, &env.store, report.run)
            .await
            .unwrap();
        assert!(
            preview.accounts.iter().all(|a| a.name != "alice"),
            "{family:?}: alice's unconfirmed grants are not undone: {preview:?}"
        );
        assert!(
            preview
                .notes
                .iter()
                .any(|n| n.starts_with("alice:") && n.contains("not confirm")),
            "{:?}",
            preview.notes
        );
    }
}
