//! The bot's Confirm applies through the engine's `Runner`, with the lease it took at the
//! press: while the run reads and writes, anyone else asking for the destination (a CLI, a
//! schedule) is told the admin's run holds it; the run is recorded with the admin as its
//! trigger, the final message names it, and the destination is free once it is recorded.

use std::time::Duration;

use sharesync::apply::{Busy, Runner};
use sharesync::model::{MachineId, ServerRef};
use sharesync::store::{RunStatus, Store, Trigger};

use super::support::fixtures::{admin, ADMIN_USER};
use super::{button_with, finished, title, until_message, TestBot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_applies_through_the_runner_under_the_lease_of_the_press() {
    let bot = TestBot::start().await;
    let msg = bot.plan(&[]).await;
    let press = bot
        .press(&msg, &button_with(&msg, "ss:apply:"), admin())
        .await;
    bot.callback(&press).await;
    let confirm = bot.message(&msg);
    let store = Store::open(bot.config.database_file()).unwrap();
    let manual = Runner::new(&store, &bot.config.limits);
    let doodoo = bot
        .sandbox
        .world()
        .server_by_name("doodoo")
        .unwrap()
        .clone();
    let dest = ServerRef {
        name: doodoo.name.clone(),
        machine_id: MachineId(doodoo.machine_id.clone()),
    };
    bot.sandbox.set_latency(Duration::from_millis(100));
    bot.press(&confirm, &button_with(&confirm, "ss:confirm:"), admin())
        .await;

    let someone = Trigger::cli("alice");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let held = loop {
        assert!(tokio::time::Instant::now() < deadline, "no run started");
        // Asked only once the press has taken the lease, so the press is never refused.
        if !store.leases().unwrap().is_empty() {
            match manual.lease(&dest, &someone) {
                Err(Busy::Held(lease)) if lease.run.is_some() => break lease,
                Err(Busy::Held(_)) => {}
                other => panic!("the destination is the press's: {other:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let who = format!("discord:{ADMIN_USER}");
    assert_eq!(held.started_by, who);
    let run = held.run.unwrap();

    let done = until_message(&bot, &msg, "the final embed", finished).await;
    assert!(title(&done).starts_with("Applied"), "{done}");
    assert!(done.to_string().contains(&format!("run #{run}")), "{done}");
    let record = store.run(run).unwrap().run;
    assert_eq!((record.trigger, record.status), (who, RunStatus::Finished));
    drop(
        manual
            .lease(&dest, &someone)
            .expect("free once the run is recorded"),
    );
    bot.stop().await;
}
