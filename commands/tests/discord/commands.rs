//! The slash commands: registration, `/sync-plan`, who may run them and where, `/sync-link`
//! with `/sync-user`, a password session, autocomplete.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_registers_every_command_with_its_options() {
    let bot = TestBot::start().await;
    let calls = bot.fake.calls();
    let get_gateway = calls
        .iter()
        .position(|c| c.is("GET", "/gateway"))
        .expect("GET /gateway");
    let identify = calls
        .iter()
        .position(|c| c.is("WS", "IDENTIFY"))
        .expect("IDENTIFY");
    let put = calls
        .iter()
        .find(|c| {
            c.is(
                "PUT",
                &format!("/applications/1000/guilds/{GUILD_ID}/commands"),
            )
        })
        .expect("PUT");
    assert!(get_gateway < identify && identify < put.index);
    assert_eq!(calls[identify].body["token"], "Bot fake-discord-token");
    assert!(
        !calls.iter().any(|c| c.path.contains("oauth2")),
        "initialize_owners(false)"
    );
    let cmds = put.body.as_array().unwrap();
    let names: Vec<&str> = cmds.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "sync-plan",
            "sync-apply",
            "sync-user",
            "sync-link",
            "sync-unlink",
            "sync-status"
        ]
    );
    let options = |name: &str| -> Vec<String> {
        cmds.iter().find(|c| c["name"] == name).unwrap()["options"]
            .as_array()
            .map(|o| {
                o.iter()
                    .map(|o| o["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(options("sync-plan"), ["pair", "user"]);
    assert_eq!(options("sync-apply"), ["plan"]);
    assert_eq!(options("sync-user"), ["plex_user", "member", "pair"]);
    assert_eq!(options("sync-link"), ["member", "plex_user"]);
    for c in cmds {
        assert_eq!(
            c["default_member_permissions"], "32",
            "{} needs Manage Server",
            c["name"]
        );
    }
    // The container health check reads this file: present while connected, gone after shutdown.
    let beat = bot.config.data_dir.join(discord::HEARTBEAT_FILE);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !beat.exists() {
        assert!(tokio::time::Instant::now() < deadline, "no heartbeat file");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut bot = bot;
    let running = bot.bot.take().expect("running");
    running.shutdown(Duration::from_secs(5)).await;
    assert!(!beat.exists(), "heartbeat file left after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_plan_shows_counts_and_buttons() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    // The counts the engine plans for the demo scenario, read the same way the bot does.
    let session = sharesync::session::Session::connect(&bot.config, None)
        .await
        .unwrap();
    let (_, plan) = session
        .plan_pair(&bot.config.pairs[0], vec![])
        .await
        .unwrap();
    let d = description(&msg);
    assert!(d.contains("**noodle** → **doodoo**"), "{d}");
    for o in sharesync::plan::Outcome::ALL {
        let n = plan.count(o);
        if n > 0 {
            assert!(
                d.contains(&format!("{}: {n}", render::outcome_label(o))),
                "{o:?} {n} in {d}"
            );
        }
    }
    let ids = fx::button_ids(&msg);
    assert!(ids.iter().any(|b| b.starts_with("ss:apply:")), "{ids:?}");
    assert!(ids.iter().any(|b| b.starts_with("ss:cancel:")));
    assert!(ids.iter().any(|b| b.starts_with("ss:download:")));
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_is_refused_everywhere_and_nothing_is_written() {
    let bot = TestBot::start().await;
    let i = bot.send(fx::slash("sync-plan", &[], non_admin()));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["type"], 4);
    assert_eq!(cb["data"]["flags"], 64, "ephemeral: {cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("admin role"),
        "{cb}"
    );
    let msg = bot.plan(&[]).await;
    let mark = bot.fake.mark();
    for action in ["ss:apply:", "ss:cancel:", "ss:download:"] {
        let press = bot
            .press(&msg, &button_with(&msg, action), non_admin())
            .await;
        let cb = bot.callback(&press).await;
        assert_eq!(
            (cb["type"].clone(), cb["data"]["flags"].clone()),
            (4.into(), 64.into()),
            "{action}: {cb}"
        );
        assert!(
            cb["data"]["content"]
                .as_str()
                .is_some_and(|t| t.contains("admin role")),
            "{action}: the refusal says why: {cb}"
        );
    }
    assert!(
        bot.fake.calls()[mark..].iter().all(|c| c.files.is_empty()),
        "no file reaches a non-admin (Download refused)"
    );
    let plan_id = button_with(&msg, "ss:apply:")
        .trim_start_matches("ss:apply:")
        .to_string();
    let press = bot
        .press(&msg, &format!("ss:confirm:{plan_id}"), non_admin())
        .await;
    let cb = bot.callback(&press).await;
    assert_eq!(cb["data"]["flags"], 64, "{cb}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.writes(), 0, "no write in the plex.tv request log");
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_then_sync_user_plans_for_exactly_that_account() {
    let bot = TestBot::start().await;
    let session = sharesync::session::Session::connect(&bot.config, None)
        .await
        .unwrap();
    let (_, plan) = session
        .plan_pair(&bot.config.pairs[0], vec![])
        .await
        .unwrap();
    let target = plan.to_update().next().expect("someone to grant").clone();
    let i = bot.send(fx::slash(
        "sync-link",
        &[
            fx::user_opt("member", 777),
            opt("plex_user", &target.account_id.0.to_string()),
        ],
        admin(),
    ));
    bot.callback(&i).await;
    let token = fx::token(&i);
    let call = bot
        .fake
        .wait_for(WAIT, "link reply", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    assert!(
        call.body["content"].as_str().unwrap().contains("Linked"),
        "{}",
        call.body
    );
    let i = bot.send(fx::slash(
        "sync-user",
        &[fx::user_opt("member", 777)],
        admin(),
    ));
    bot.callback(&i).await;
    let token = fx::token(&i);
    bot.fake
        .wait_for(WAIT, "user plan", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    let msg = bot.fake.message_of_token(&token).unwrap();
    let lines: usize = msg["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap().lines().count())
        .sum();
    assert_eq!(lines, 1, "{msg}");
    // An unlinked member gets told how to link.
    let i = bot.send(fx::slash(
        "sync-user",
        &[fx::user_opt("member", 778)],
        admin(),
    ));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["data"]["flags"], 64, "{cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .unwrap()
            .contains("/sync-link"),
        "{cb}"
    );
    bot.stop().await;
}

/// Signed in with username and password: one sign-in request for the whole process, however
/// many commands (plans, status, autocomplete) and however often; plex.tv locks out an address
/// that signs in again and again, and a two-factor code works once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_session_signs_in_once_over_fifty_commands() {
    let bot = TestBot::start_signed_in_by(
        Scenario::demo(),
        "",
        Some("username = \"sandbox-owner\"\npassword = \"sandbox-password\""),
    )
    .await;
    for n in 0..50 {
        let i = match n % 3 {
            0 => fx::slash("sync-plan", &[], admin()),
            1 => fx::slash("sync-status", &[], admin()),
            _ => fx::autocomplete("sync-user", "plex_user", "al", admin()),
        };
        let i = bot.send(i);
        let cb = bot.callback(&i).await;
        if cb["type"] == 5 {
            let token = fx::token(&i);
            bot.fake
                .wait_for(WAIT, "the follow-up", |c| {
                    c.is("POST", &format!("/webhooks/1000/{token}"))
                })
                .await;
        }
    }
    let sign_ins = bot
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("sign"))
        .count();
    assert_eq!(sign_ins, 1, "one sign-in for fifty commands");
    assert!(
        bot.sandbox.requests().len() > 50,
        "the commands did reach plex.tv"
    );
    bot.stop().await;
}

/// `allowed_channel_ids` set to another channel: an admin's command here is refused privately
/// with the reason, and nothing is read from plex.tv.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_outside_the_allowed_channels_are_refused() {
    let bot = TestBot::start_full(Scenario::demo(), "allowed_channel_ids = [987654321]").await;
    let requests = bot.sandbox.requests().len();
    let i = bot.send(fx::slash("sync-plan", &[], admin()));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["data"]["flags"], 64, "ephemeral: {cb}");
    assert!(
        cb["data"]["content"]
            .as_str()
            .is_some_and(|t| t.contains("not enabled in this channel")),
        "{cb}"
    );
    assert_eq!(bot.sandbox.requests().len(), requests, "plex.tv not asked");
    bot.stop().await;
}

/// Autocomplete of a Plex user: an admin gets the matching accounts; anyone else gets none
/// (account names and e-mails are not shown to non-admins).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plex_user_autocomplete_lists_matches_for_admins_only() {
    let bot = TestBot::start().await;
    let choices = |cb: &Value| -> Vec<String> {
        cb["data"]["choices"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| c["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    human().await;
    let i = bot.send(fx::autocomplete("sync-user", "plex_user", "ali", admin()));
    let cb = bot.callback(&i).await;
    assert_eq!(cb["type"], 8, "{cb}");
    assert!(choices(&cb).iter().any(|c| c.contains("alice")), "{cb}");
    // A non-admin's autocomplete fails the command check: no choice is ever sent.
    let i = bot.send(fx::autocomplete(
        "sync-user",
        "plex_user",
        "ali",
        non_admin(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let path = format!("/interactions/{}/{}/callback", fx::id(&i), fx::token(&i));
    assert!(
        bot.fake
            .calls()
            .iter()
            .filter(|c| c.is("POST", &path))
            .all(|c| choices(&c.body).is_empty()),
        "no account names for a non-admin"
    );
    bot.stop().await;
}
