//! What a plan shows: two thousand accounts paginated and downloadable, looser shares warned
//! about, and a restricted share created by Apply.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_accounts_paginate_within_limits_and_download() {
    let bot = TestBot::start_with(Scenario::generated(2000, 6, 7)).await;
    let i = bot.send(fx::slash("sync-plan", &[], admin()));
    bot.callback(&i).await;
    let token = fx::token(&i);
    bot.fake
        .wait_for(Duration::from_secs(60), "the plan", |c| {
            c.is("POST", &format!("/webhooks/1000/{token}"))
        })
        .await;
    let mut msg = bot.fake.message_of_token(&token).unwrap();
    let footer = |m: &Value| {
        m["embeds"][0]["footer"]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pages: usize = footer(&msg)
        .split("page 1/")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(pages > 1, "{}", footer(&msg));
    let check = |m: &Value| {
        let e = &m["embeds"][0];
        let len = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        let total = len(&e["title"])
            + len(&e["description"])
            + len(&e["footer"]["text"])
            + fields
                .iter()
                .map(|f| len(&f["name"]) + len(&f["value"]))
                .sum::<usize>();
        assert!(
            total <= 6000 && fields.len() <= 25 && len(&e["description"]) <= 4096,
            "limits: {total}"
        );
        assert!(fields
            .iter()
            .all(|f| len(&f["value"]) <= 1024 && len(&f["name"]) <= 256));
        assert!(m["components"].as_array().unwrap().len() <= 5);
    };
    let mut seen = 0;
    for p in 1..=pages {
        check(&msg);
        assert!(
            footer(&msg).contains(&format!("page {p}/{pages}")),
            "{}",
            footer(&msg)
        );
        seen += msg["embeds"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap().lines().count())
            .sum::<usize>();
        if p < pages {
            let press = bot
                .press(&msg, &button_with(&msg, "ss:next:"), admin())
                .await;
            assert_eq!(bot.callback(&press).await["type"], 7);
            msg = bot.message(&msg);
        }
    }
    let press = bot
        .press(&msg, &button_with(&msg, "ss:prev:"), admin())
        .await;
    bot.callback(&press).await;
    assert!(footer(&bot.message(&msg)).contains(&format!("page {}/{pages}", pages - 1)));
    let press = bot
        .press(&msg, &button_with(&msg, "ss:download:"), admin())
        .await;
    let path = format!(
        "/interactions/{}/{}/callback",
        fx::id(&press),
        fx::token(&press)
    );
    let call = bot
        .fake
        .wait_for(WAIT, "download", |c| c.is("POST", &path))
        .await;
    let names: Vec<&str> = call.files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().any(|n| n.ends_with(".json")) && names.iter().any(|n| n.ends_with(".csv")),
        "{names:?}"
    );
    let json: Value = serde_json::from_slice(
        &call
            .files
            .iter()
            .find(|(n, _)| n.ends_with(".json"))
            .unwrap()
            .1,
    )
    .unwrap();
    let csv = String::from_utf8(
        call.files
            .iter()
            .find(|(n, _)| n.ends_with(".csv"))
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert_eq!(
        csv.lines().count() - 1,
        json["users"].as_array().unwrap().len()
    );
    assert_eq!(
        seen,
        json["users"].as_array().unwrap().len(),
        "every account line was shown once"
    );
    assert_eq!(call.body["data"]["flags"], 64);
    bot.stop().await;
}

/// Restrictions are access: `/sync-plan` marks and counts the accounts whose
/// destination share is less restricted than their source share, and Apply creates a managed
/// user's new share with the source's filters, leaving every existing share's settings alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_plan_warns_of_looser_shares_and_apply_creates_a_restricted_share() {
    use sharesync::sandbox::SettingsSpec;
    let libs = [("Movies", "movie"), ("TV Shows", "show")];
    let no_horror = || SettingsSpec {
        filter_movies: Some("label!=Horror".into()),
        ..SettingsSpec::default()
    };
    let scenario = Scenario::builder()
        .server("noodle", &libs)
        .server("doodoo", &libs)
        .friend("alice")
        .friend("bob")
        .managed("Kiddo")
        .share("noodle", "alice", ["Movies", "TV Shows"])
        .settings(no_horror())
        .share("doodoo", "alice", ["Movies"])
        .settings(SettingsSpec {
            allow_sync: Some(true),
            ..SettingsSpec::default()
        })
        .share("noodle", "bob", ["Movies"])
        .settings(no_horror())
        .share("doodoo", "bob", ["Movies"])
        .share("noodle", "Kiddo", ["Movies", "TV Shows"])
        .settings(SettingsSpec {
            filter_movies: Some("contentRating=G%2CPG".into()),
            filter_television: Some("contentRating=TV-Y".into()),
            ..SettingsSpec::default()
        })
        .build();
    let bot = TestBot::start_with(scenario).await;
    let before = bot.sandbox.world();
    let msg = bot.plan(&[]).await;
    let d = description(&msg);
    assert!(
        d.contains("🔓 **2** less restricted on doodoo than on noodle"),
        "{d}"
    );
    let fields: Vec<String> = msg["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap().to_string())
        .collect();
    let all = fields.join("\n");
    assert!(all.contains("**alice** 🔓"), "{all}");
    assert!(all.contains("**bob** 🔓"), "{all}");
    assert!(
        !all.contains("**Kiddo** 🔓"),
        "a copied share is not looser: {all}"
    );

    let confirm = bot.open_confirm(&msg).await;
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;
    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");

    let after = bot.sandbox.world();
    let doodoo = after.server_by_name("doodoo").unwrap().machine_id.clone();
    let kiddo = after.account_by_name("Kiddo").unwrap().id;
    let created = after.share_for(&doodoo, kiddo).expect("Kiddo's new share");
    assert_eq!(
        created.settings.filter_movies.as_deref(),
        Some("contentRating=G%2CPG")
    );
    assert_eq!(
        created.settings.filter_television.as_deref(),
        Some("contentRating=TV-Y")
    );
    assert!(!created.settings.allow_sync);
    // Existing shares: libraries granted, restrictions exactly as before (never loosened or
    // tightened by sharesync).
    for (id, share) in &before.shares {
        assert_eq!(after.shares[id].settings, share.settings, "share {id}");
    }
    let alice = after.account_by_name("alice").unwrap().id;
    assert_eq!(
        after.share_for(&doodoo, alice).unwrap().section_ids.len(),
        2,
        "alice's grant landed"
    );
    bot.stop().await;
}
