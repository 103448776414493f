//! `sharesync schedules`: every `[[schedule]]` with its next occurrences and its last run.

use std::process::ExitCode;

use chrono::Utc;
use clap::Args;
use sharesync::config::Config;
use sharesync::store::Store;

use super::Failure;

#[derive(Args, Debug)]
pub struct SchedulesArgs {
    /// How many upcoming occurrences to show per schedule.
    #[arg(long, default_value_t = 3, value_name = "N")]
    next: usize,
}

pub fn schedules(config: Config, args: SchedulesArgs) -> Result<ExitCode, Failure> {
    if config.schedules.is_empty() {
        println!("No schedules: add a [[schedule]] to the config (see config/sharesync.example.toml); `sharesync bot` runs them.");
        return Ok(ExitCode::SUCCESS);
    }
    // Read the record only if there is one: listing must not create a database.
    let db = config.database_file();
    let store = if db.exists() {
        Some(Store::open(&db)?)
    } else {
        None
    };
    let now = Utc::now();
    for s in &config.schedules {
        println!(
            "{}: pair {}, {}, cron `{}` in {}{}",
            s.name,
            s.pair,
            s.mode.as_str(),
            s.cron,
            s.timezone,
            if s.quiet_when_in_sync {
                ", quiet when in sync"
            } else {
                ""
            }
        );
        for t in s.cron.upcoming(s.timezone, now, args.next) {
            let local = t.with_timezone(&s.timezone.0);
            println!(
                "  next {} ({})",
                local.format("%Y-%m-%d %H:%M %Z"),
                t.format("%H:%M UTC")
            );
        }
        let state = match &store {
            Some(store) => store.schedule_state(&s.name)?,
            None => None,
        };
        match state.and_then(|st| Some((st.last_started?, st.last_result?))) {
            Some((at, result)) => println!("  last {}: {result}", at.format("%Y-%m-%d %H:%M UTC")),
            None => println!("  last: never run"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
