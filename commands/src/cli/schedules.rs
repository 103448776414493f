//! `sharesync schedules`: every `[[schedule]]` with its next occurrences and its last run.

use std::process::ExitCode;

use clap::Args;
use sharesync::clock::{Clock, SystemClock};
use sharesync::config::Config;
use sharesync::store::Store;

use super::failure::Failure;
use super::render;

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
    let now = SystemClock.now();
    let mut rows = Vec::new();
    for s in &config.schedules {
        let next: Vec<String> = s
            .cron
            .upcoming(s.timezone, now, args.next)
            .into_iter()
            .map(|t| {
                let local = t.with_timezone(&s.timezone.0);
                format!(
                    "{} ({})",
                    local.format("%Y-%m-%d %H:%M %Z"),
                    t.format("%H:%M UTC")
                )
            })
            .collect();
        let state = match &store {
            Some(store) => store.schedule_state(&s.name)?,
            None => None,
        };
        let last = match state.and_then(|st| Some((st.last_started?, st.last_result?))) {
            Some((at, result)) => format!("{}: {result}", at.format("%Y-%m-%d %H:%M UTC")),
            None => "never run".to_string(),
        };
        let mode = if s.quiet_when_in_sync {
            format!("{}, quiet when in sync", s.mode.as_str())
        } else {
            s.mode.as_str().to_string()
        };
        rows.push(vec![
            s.name.clone(),
            s.pair.clone(),
            mode,
            format!("{} in {}", s.cron, s.timezone),
            next.join("\n"),
            last,
        ]);
    }
    print!(
        "{}",
        render::table(
            &["schedule", "pair", "mode", "cron", "next", "last run"],
            rows,
            &[],
            "",
        )
    );
    Ok(ExitCode::SUCCESS)
}
