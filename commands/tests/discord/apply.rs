//! Apply and Confirm: grants land and nothing is removed; stale plans, restarts, double presses,
//! another process's lease, plex.tv's faults and a rejected token.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_and_confirm_by_an_admin_grants_and_removes_nothing() {
    let bot = TestBot::start().await;
    let before_dest = shares(&bot, "doodoo");
    let before_src = shares(&bot, "noodle");
    let msg = bot.plan(&[]).await;
    let confirm = bot.open_confirm(&msg).await;
    assert!(
        title(&confirm).starts_with("Grant ") && title(&confirm).contains("on doodoo?"),
        "{}",
        title(&confirm)
    );
    let writes_before = bot.writes();
    assert_eq!(writes_before, 0);
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(bot.writes() > 0, "something was written");
    assert!(
        fx::buttons(&done)
            .iter()
            .all(|(id, disabled)| *disabled || id.starts_with("ss:download")),
        "{:?}",
        fx::buttons(&done)
    );
    assert!(!fx::button_ids(&done)
        .iter()
        .any(|b| b.starts_with("ss:confirm") || b.starts_with("ss:apply")));
    // Nothing removed: every share still has at least what it had.
    let after_dest = shares(&bot, "doodoo");
    for (account, (all, libs)) in &before_dest {
        let (all_after, libs_after) = after_dest
            .get(account)
            .unwrap_or_else(|| panic!("share of {account} on doodoo vanished"));
        assert!(!all || *all_after, "{account} lost All");
        assert!(
            *all_after || libs.is_subset(libs_after),
            "{account} lost a library"
        );
    }
    assert!(
        after_dest.values().map(|(_, l)| l.len()).sum::<usize>()
            > before_dest.values().map(|(_, l)| l.len()).sum::<usize>()
    );
    assert_eq!(
        shares(&bot, "noodle"),
        before_src,
        "the source is never written"
    );
    // A plan now has nothing to grant.
    let again = bot.plan(&[]).await;
    assert!(
        !fx::button_ids(&again)
            .iter()
            .any(|b| b.starts_with("ss:apply:")),
        "{}",
        description(&again)
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_shows_the_new_plan_and_writes_nothing() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let confirm = bot.open_confirm(&msg).await;
    // Someone removes two destination shares between plan and confirm: the plan changes.
    // (Two of six: less than the third the read guard refuses.)
    bot.sandbox.with_world(|w| {
        let id_of = |name: &str| {
            w.servers
                .iter()
                .find(|s| s.name == name)
                .unwrap()
                .machine_id
                .clone()
        };
        let (source, dest) = (id_of("noodle"), id_of("doodoo"));
        let on_source: Vec<_> = w
            .shares
            .values()
            .filter(|s| s.machine_id == source)
            .map(|s| s.account_id)
            .collect();
        // Accounts with source access now need a new share.
        let ids: Vec<u64> = w
            .shares
            .iter()
            .filter(|(_, s)| s.machine_id == dest && on_source.contains(&s.account_id))
            .map(|(id, _)| *id)
            .take(2)
            .collect();
        assert!(!ids.is_empty());
        for id in ids {
            w.shares.remove(&id);
        }
    });
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let shown = until_message(&bot, &msg, "the new plan", |m| {
        description(m).contains("changed since")
    })
    .await;
    assert!(title(&shown).starts_with("Sync plan"), "{shown}");
    assert!(fx::button_ids(&shown)
        .iter()
        .any(|b| b.starts_with("ss:apply:")));
    assert_ne!(
        button_with(&shown, "ss:apply:"),
        button_with(&msg, "ss:apply:"),
        "a new plan id"
    );
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_work_after_a_restart() {
    let mut bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    bot.restart().await;
    assert_eq!(bot.connections, 2);
    let confirm = bot.open_confirm(&msg).await;
    bot.restart().await;
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_press_and_two_admins_start_one_run() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let confirm = bot.open_confirm(&msg).await;
    let id = button_with(&confirm, "ss:confirm:");
    let a = fx::button(&id, &confirm, admin());
    let b = fx::button(&id, &confirm, fx::other_admin());
    let c = fx::button(&id, &confirm, admin());
    human().await;
    for i in [&a, &b, &c] {
        bot.fake.attach_token(
            &fx::token(i),
            confirm["id"].as_str().unwrap().parse().unwrap(),
        );
        bot.send(i.clone());
    }
    let answers = [
        bot.callback(&a).await,
        bot.callback(&b).await,
        bot.callback(&c).await,
    ];
    let started = answers.iter().filter(|cb| cb["type"] == 7).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|cb| cb["data"]["flags"] == 64)
        .collect();
    assert_eq!(started, 1, "{answers:?}");
    assert_eq!(refused.len(), 2);
    for r in refused {
        let t = r["data"]["content"].as_str().unwrap();
        assert!(
            t.contains("already") || t.contains("Another run is in progress on doodoo"),
            "{t}"
        );
    }
    until_message(&bot, &msg, "the final embed", finished).await;
    let runs = sharesync::store::Store::open(bot.config.database_file())
        .unwrap()
        .runs(10)
        .unwrap();
    assert_eq!(runs.len(), 1, "exactly one run");
    // After it: a press says already applied.
    let late = bot.press(&confirm, &id, admin()).await;
    let cb = bot.callback(&late).await;
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("already applied"),
        "{cb}"
    );
    bot.stop().await;
}

/// A CLI (another process) holds the destination's lease: Confirm is refused ephemerally,
/// naming who holds it, nothing is read for a stale check or written, and the plan stays open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_while_another_process_holds_the_destination_is_refused() {
    use sharesync::apply::{DestLease, LeaseSettings};
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let confirm = bot.open_confirm(&msg).await;
    let doodoo = bot
        .sandbox
        .world()
        .server_by_name("doodoo")
        .unwrap()
        .clone();
    let cli = DestLease::acquire(
        &sharesync::store::Store::open(bot.config.database_file()).unwrap(),
        &sharesync::model::ServerRef {
            name: doodoo.name.clone(),
            machine_id: sharesync::model::MachineId(doodoo.machine_id.clone()),
        },
        &sharesync::store::Trigger::cli("alice"),
        &LeaseSettings::from_limits(&bot.config.limits),
    )
    .unwrap();
    let requests = bot.sandbox.requests().len();
    let id = button_with(&confirm, "ss:confirm:");
    let refused = bot.press(&confirm, &id, admin()).await;
    let cb = bot.callback(&refused).await;
    assert_eq!(cb["data"]["flags"], 64, "ephemeral: {cb}");
    let text = cb["data"]["content"].as_str().unwrap();
    assert!(
        text.starts_with("Another run is in progress on doodoo: ")
            && text.contains("by cli:alice)"),
        "{text}"
    );
    assert_eq!(
        bot.sandbox.requests().len(),
        requests,
        "nothing read or written"
    );
    drop(cli);
    let again = bot.press(&confirm, &id, admin()).await;
    assert_eq!(
        bot.callback(&again).await["type"],
        7,
        "the plan stayed open"
    );
    until_message(&bot, &msg, "the final embed", finished).await;
    assert!(bot.writes() > 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_bad_gateways_during_apply_are_retried() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let confirm = bot.open_confirm(&msg).await;
    bot.sandbox.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::RateLimit {
            retry_after_secs: Some(1),
        },
        1,
    ));
    bot.sandbox.inject(Fault::new(
        FaultTarget::Writes,
        FaultKind::ServerError(502),
        1,
    ));
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(
        description(&done).contains(" 0 failed"),
        "{}",
        description(&done)
    );
    let statuses: Vec<u16> = bot
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.status)
        .collect();
    assert!(
        statuses.contains(&429) && statuses.contains(&502),
        "{statuses:?}"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_plex_token_is_explained_and_nothing_is_written() {
    let bot = TestBot::start().await;
    bot.sandbox.with_world(|w| w.tokens.clear());
    let i = bot.send(fx::slash("sync-plan", &[], admin()));
    bot.callback(&i).await;
    let token = fx::token(&i);
    let call = bot
        .fake
        .wait_for(WAIT, "the error", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    let text = call.body["content"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("rejected the Plex token"), "{text}");
    assert!(
        !text.contains(&bot.sandbox.owner_token()),
        "the token never reaches a message"
    );
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}

/// An apply whose run stops on an error says so in the plan's message (the same report path as
/// commands and buttons): the person's words, what was not written, and no token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_stops_on_an_error_says_so_in_its_message() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    let confirm = bot.message(&msg);
    bot.sandbox.with_world(|w| w.tokens.clear());
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert_eq!(title(&done), "Apply failed", "{done}");
    let text = description(&done);
    assert!(
        text.contains("rejected the Plex token")
            && text.contains("Nothing more will be written for this plan."),
        "{text}"
    );
    assert!(!done.to_string().contains(&bot.sandbox.owner_token()));
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}
