//! Schedules in the bot: reports and applies posted to the notify channel, `/sync-status`, a read
//! that looks wrong, and the families' disagreement.

use super::*;

impl TestBot {
    /// Move the schedules' clock to `at` and run what is due, as the loop does each tick;
    /// returns the post the run made in the notify channel and its attachments.
    async fn scheduled_post(&self, at: &str) -> (Value, Vec<support::fake_discord::Attachment>) {
        let running = self.bot.as_ref().expect("running");
        // The first pass arms the schedules at the start time (the loop may have done it).
        running.run_schedules().await;
        let mark = self.fake.mark();
        self.clock.set(at);
        running.run_schedules().await;
        let path = format!("/channels/{NOTIFY_CHANNEL}/messages");
        self.fake
            .wait_for_from(mark, WAIT, "the scheduled post", |c| c.is("POST", &path))
            .await;
        self.fake.last_post_in(NOTIFY_CHANNEL).expect("a post")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_report_posts_the_plan_and_its_apply_button_applies() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"report\"\n",
    )
    .await;
    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(bot.writes(), 0, "a report writes nothing");
    assert!(title(&post).contains("noodle → doodoo"), "{post}");
    let text = description(&post);
    assert!(
        text.contains("Scheduled sync **nightly**") && text.contains("2026-01-10 03:00 UTC"),
        "{text}"
    );
    // The same plan /sync-plan would post, with the same buttons.
    let manual = bot.plan(&[]).await;
    assert_eq!(
        post["embeds"][0]["fields"], manual["embeds"][0]["fields"],
        "same per-account lines as /sync-plan"
    );
    let confirm = bot.open_confirm(&post).await;
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &post, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(bot.writes() > 0);
    // The same occurrence does not post again.
    let mark = bot.fake.mark();
    assert_eq!(bot.bot.as_ref().unwrap().run_schedules().await, 0);
    assert!(!bot.fake.calls()[mark..]
        .iter()
        .any(|c| c.is("POST", "/channels/")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_apply_posts_its_results_with_a_csv() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    let before = shares(&bot, "doodoo");
    let (post, files) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert!(
        title(&post).starts_with("Applied: noodle → doodoo"),
        "{post}"
    );
    let text = description(&post);
    for words in [
        "Scheduled sync **nightly** (pair main)",
        "due 2026-01-10 03:00 UTC",
        "took ",
        "account(s) updated",
        "granted",
        "nothing was removed",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    assert!(post["components"].as_array().is_none_or(|c| c.is_empty()));
    let footer = post["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        footer.contains("attached CSV") && !footer.contains("Download"),
        "{footer}"
    );
    let (name, csv) = files.first().expect("the run's results attached");
    assert!(
        name.starts_with("sharesync-run-") && name.ends_with(".csv"),
        "{name}"
    );
    let csv = String::from_utf8(csv.clone()).unwrap();
    assert!(csv.starts_with("account_id,name,planned,result"), "{csv}");
    let after = shares(&bot, "doodoo");
    let granted: usize = after.values().map(|(_, l)| l.len()).sum::<usize>()
        - before.values().map(|(_, l)| l.len()).sum::<usize>();
    assert!(granted > 0);
    assert_eq!(csv.lines().count() - 1, csv.matches(",applied,").count());
    assert!(text.contains(&format!("{granted} librar")), "{text}");
    bot.stop().await;
}

impl TestBot {
    /// Run `/sync-status` as an admin; returns its (ephemeral) follow-up.
    async fn status(&self) -> Value {
        let i = self.send(fx::slash("sync-status", &[], admin()));
        assert_eq!(self.callback(&i).await["type"], 5);
        let token = fx::token(&i);
        self.fake
            .wait_for(WAIT, "the status follow-up", |c| {
                c.is("POST", &format!("/webhooks/1000/{token}"))
            })
            .await
            .body
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_status_shows_the_token_runs_and_next_schedules() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    bot.scheduled_post("2026-01-10T03:00:05Z").await; // one run in the record
    let reply = bot.status().await;
    assert_eq!(reply["flags"].as_u64().unwrap_or(0) & 64, 64, "ephemeral");
    let fields = reply["embeds"][0]["fields"].as_array().unwrap();
    let field = |name: &str| status_field(&reply, name);
    assert!(
        field("Plex token").starts_with("OK: signed in as"),
        "{reply}"
    );
    assert!(field("Servers").contains("doodoo"));
    assert!(
        field("Last runs").contains("#1 apply noodle → doodoo by schedule **nightly**"),
        "{reply}"
    );
    assert!(
        field("Next scheduled runs").contains("**nightly** (apply, pair main): `0 3 * * *` UTC"),
        "{reply}"
    );
    let total: usize = fields
        .iter()
        .map(|f| f["name"].as_str().unwrap().len() + f["value"].as_str().unwrap().chars().count())
        .sum();
    assert!(total < render::MESSAGE_EMBED_TOTAL_MAX);
    assert!(
        !reply.to_string().contains(&bot.sandbox.owner_token()),
        "no token shown"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_apply_over_a_limit_is_posted_to_approve_and_confirm_goes_over_it() {
    // The demo plan updates 5 accounts.
    let bot = TestBot::start_limited(
        Scenario::demo(),
        "max_accounts_per_run = 4",
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(
        bot.writes(),
        0,
        "over the limit, a scheduled apply writes nothing"
    );
    assert!(
        title(&post).starts_with("Sync plan: noodle → doodoo"),
        "{post}"
    );
    let text = description(&post);
    for words in [
        "Not applied: over the blast-radius limit",
        "5 accounts to update, limits.max\\_accounts\\_per\\_run is 4",
        "Press Apply",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let confirm = bot.open_confirm(&post).await;
    let text = description(&confirm);
    assert!(
        text.contains("Over the blast-radius limit")
            && text.contains("5 accounts to update, limits.max\\_accounts\\_per\\_run is 4"),
        "the confirm names the numbers: {text}"
    );
    assert_eq!(bot.writes(), 0);
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &post, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(bot.writes() > 0, "Confirm goes over the limit");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_looks_wrong_is_posted_once_and_an_admin_accepts_it() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"hourly\"\npair = \"main\"\ncron = \"0 * * * *\"\nmode = \"apply\"\n",
    )
    .await;
    // The first run applies and leaves a baseline; then plex.tv answers with no shares on doodoo.
    let (first, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert!(title(&first).starts_with("Applied"), "{first}");
    bot.sandbox.with_world(|w| w.take_shares("doodoo", 0));
    let writes = bot.writes();

    let (post, _) = bot.scheduled_post("2026-01-10T04:00:05Z").await;
    assert_eq!(bot.writes(), writes, "nothing written");
    assert!(title(&post).contains("the read looks wrong"), "{post}");
    let text = description(&post);
    for words in [
        "doodoo: ",
        " shares at the last good read, 0 now",
        "UTC) — plex.tv may be answering wrongly; run \\`sharesync doctor --deep\\`",
        "Nothing was planned or written.",
        "plex.tv may be answering wrongly",
        "posted once",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let accept = button_with(&post, "ss:accept-change:");

    // The next occurrence is refused again without a post.
    let running = bot.bot.as_ref().unwrap();
    let mark = bot.fake.mark();
    bot.clock.set("2026-01-10T05:00:05Z");
    assert_eq!(running.run_schedules().await, 1);
    assert!(
        !bot.fake.calls()[mark..]
            .iter()
            .any(|c| c.is("POST", "/channels/")),
        "posted once, not every run"
    );
    assert_eq!(bot.writes(), writes);

    // A non-admin cannot accept; an admin can, and the next run plans from the new baseline.
    let refused = bot.press(&post, &accept, non_admin()).await;
    assert_eq!(bot.callback(&refused).await["data"]["flags"], 64);
    let press = bot.press(&post, &accept, admin()).await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["type"], 7, "{cb}");
    let accepted = cb["data"]["embeds"][0]["description"].as_str().unwrap();
    assert!(
        accepted.contains("accepted doodoo as it is now (0 shares"),
        "{accepted}"
    );
    let (next, _) = bot.scheduled_post("2026-01-10T06:00:05Z").await;
    assert!(!title(&next).contains("looks wrong"), "{next}");
    assert!(
        bot.writes() > writes,
        "planned and applied from the accepted read"
    );
    bot.stop().await;
}

/// A bot with no schedule: a refused /sync-plan carries the admin-only Accept button itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sync_plan_offers_accept_and_the_next_plan_is_made() {
    let bot = TestBot::start().await;
    let first = bot.plan(&[]).await;
    assert!(title(&first).starts_with("Sync plan"), "{first}");
    bot.sandbox.with_world(|w| w.take_shares("doodoo", 0));

    let refused = bot.plan(&[]).await;
    assert!(
        title(&refused).contains("the read looks wrong"),
        "{refused}"
    );
    let text = description(&refused);
    for words in [
        "plex.tv may be answering wrongly",
        "Nothing was planned or written.",
        "accept it below",
    ] {
        assert!(text.contains(words), "{words:?} not in {text}");
    }
    let accept = button_with(&refused, "ss:accept-change:");
    let denied = bot.press(&refused, &accept, non_admin()).await;
    assert_eq!(bot.callback(&denied).await["data"]["flags"], 64);
    let press = bot.press(&refused, &accept, admin()).await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["type"], 7, "{cb}");
    let baseline = stored_baseline(&bot.config.database_file(), &bot.sandbox, "doodoo");
    assert_eq!(
        baseline.accepted_by,
        Some(format!("discord:{}", fx::ADMIN_USER)),
        "who accepted is recorded"
    );

    let next = bot.plan(&[]).await;
    assert!(title(&next).starts_with("Sync plan"), "{next}");
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_schedule_posts_the_families_disagreement_and_sync_status_shows_it() {
    use sharesync::sandbox::LegacyDrift;
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"crosscheck\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"check\"\n",
    )
    .await;
    assert!(
        status_field(&bot.status().await, "Last deep check").starts_with("never"),
        "no check yet"
    );
    let world = bot.sandbox.world();
    let mid = world.server_by_name("doodoo").unwrap().machine_id.clone();
    let alice = world.account_by_name("alice").unwrap().id;
    let share = world.share_for(&mid, alice).unwrap().id;
    bot.sandbox
        .with_world(|w| w.legacy_drift.insert(share, LegacyDrift::Hidden));

    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(bot.writes(), 0, "a check never writes");
    assert_eq!(title(&post), "crosscheck: API families disagree", "{post}");
    let text = description(&post);
    assert!(
        text.contains("doodoo: alice has a share through v2 only (legacy does not list it)"),
        "{text}"
    );
    let last = status_field(&bot.status().await, "Last deep check");
    for words in [
        " UTC by schedule **crosscheck**",
        "1 disagreement between v2 and legacy: doodoo: alice has a share through v2 only",
    ] {
        assert!(last.contains(words), "{words:?} not in {last}");
    }
    bot.stop().await;
}

/// Handlers take "now" from the bot's clock, as the schedules do: a plan's expiry, whether it is
/// still open and the next scheduled runs follow the clock the tests move (set years back, so a
/// handler reading the machine's clock would find the plan long expired).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_take_the_time_from_the_bots_clock() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"report\"\n",
    )
    .await;
    bot.clock.set("2020-02-03T17:41:00Z");
    let plan = bot.plan(&[]).await;
    let footer = plan["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(footer.contains("expires 18:11 UTC"), "{footer}");
    let reply = bot.status().await;
    assert!(
        status_field(&reply, "Next scheduled runs")
            .contains("→ 2020-02-04 03:00 UTC, 2020-02-05 03:00 UTC"),
        "{reply}"
    );
    assert!(
        status_field(&reply, "Open plans").contains("expires 18:11 UTC"),
        "{reply}"
    );
    // The plan is open by the bot's clock: Apply shows the Confirm page.
    let press = bot
        .press(&plan, &button_with(&plan, "ss:apply:"), admin())
        .await;
    assert_eq!(bot.callback(&press).await["type"], 7);
    bot.stop().await;
}

/// A session error on `/sync-status` is shown with every secret redacted (here plex.tv's
/// answer to the sign-in contains the configured password).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_status_redacts_secrets_in_a_session_error() {
    let bot = TestBot::start_signed_in_by(
        Scenario::demo(),
        "",
        Some("username = \"sandbox-owner\"\npassword = \"Server\""),
    )
    .await;
    bot.sandbox.inject(Fault::new(
        FaultTarget::PathContains("/users/signin".into()),
        FaultKind::ServerError(418),
        10,
    ));
    let reply = bot.status().await;
    let token = status_field(&reply, "Plex token");
    assert!(
        token.contains("(418)") && token.contains("[redacted]"),
        "{token}"
    );
    assert!(!token.contains("Server"), "{token}");
    bot.stop().await;
}

/// A scheduled run that meets a rejected token posts the bot's fix (where to set a fresh token),
/// never the token, and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_with_a_rejected_token_posts_the_fix() {
    let bot = TestBot::start_full(
        Scenario::demo(),
        "[[schedule]]\nname = \"nightly\"\npair = \"main\"\ncron = \"0 3 * * *\"\nmode = \"apply\"\n",
    )
    .await;
    bot.sandbox.with_world(|w| w.tokens.clear());
    let (post, _) = bot.scheduled_post("2026-01-10T03:00:05Z").await;
    assert_eq!(title(&post), "nightly: could not run", "{post}");
    // Markdown-escaped in the embed.
    let text = description(&post).replace('\\', "");
    assert!(
        text.contains("rejected the Plex token") && text.contains("PLEX_ACCOUNT_TOKEN"),
        "{text}"
    );
    assert!(!post.to_string().contains(&bot.sandbox.owner_token()));
    assert_eq!(bot.writes(), 0);
    bot.stop().await;
}
