//! `/sync-status` as data: one line per pair, open plan, run and schedule, and the embed whose
//! fields share Discord's 6,000 characters.

use chrono::{DateTime, Utc};
use sharesync::config::{PairConfig, ScheduleConfig};
use sharesync::store::{DeepCheckRecord, RunRecord, Trigger};

use super::page::{EmbedSpec, FieldSpec, Page, BLUE, FIELD_VALUE_MAX, MESSAGE_EMBED_TOTAL_MAX};
use super::text::{ellipsis, escape, trigger_label, when};

/// The status embed: named fields, each given an equal part of the embed's characters.
pub fn status_page(fields: Vec<(String, String)>) -> Page {
    // The fields share the 6,000 characters of an embed: each gets an equal part.
    let per_field = (MESSAGE_EMBED_TOTAL_MAX - 400) / fields.len().max(1);
    let embed = EmbedSpec {
        title: "sharesync status".into(),
        description: String::new(),
        fields: fields
            .into_iter()
            .map(|(n, v)| FieldSpec {
                name: n,
                value: ellipsis(
                    if v.is_empty() { "—" } else { &v },
                    per_field.min(FIELD_VALUE_MAX),
                ),
            })
            .collect(),
        footer: String::new(),
        colour: BLUE,
    };
    Page {
        content: String::new(),
        embeds: vec![embed],
        rows: vec![],
    }
}

/// "**main**: noodle → doodoo", one line per pair.
pub fn pair_lines(pairs: &[PairConfig]) -> String {
    pairs
        .iter()
        .map(|p| {
            format!(
                "**{}**: {} → {}",
                escape(&p.name),
                escape(&p.source),
                escape(&p.dest)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Open plans (id, pair, expiry), one line each.
pub fn open_plan_lines(open: &[(String, String, DateTime<Utc>)]) -> String {
    if open.is_empty() {
        "none".into()
    } else {
        open.iter()
            .map(|(id, pair, exp)| {
                format!(
                    "`{id}` ({}) expires {} UTC",
                    escape(pair),
                    exp.format("%H:%M")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The last runs, newest first, one line each.
pub fn run_lines(runs: &[RunRecord]) -> String {
    if runs.is_empty() {
        "none yet".into()
    } else {
        runs.iter()
            .map(|r| {
                let counts = r.summary.as_ref().map_or(String::new(), |s| {
                    format!(
                        ": {} updated, {} failed",
                        s.accounts_updated,
                        s.accounts_failed + s.accounts_partial
                    )
                });
                format!(
                    "#{} {} {} → {} by {} · {}{counts} · {} UTC",
                    r.id,
                    r.kind.as_str(),
                    escape(&r.source.name),
                    escape(&r.dest.name),
                    trigger_label(&Trigger::parse(&r.trigger)),
                    r.status.as_str(),
                    r.started_at.format("%Y-%m-%d %H:%M"),
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The last deep check of the API families, or how to run one.
pub fn deep_check_line(check: Option<DeepCheckRecord>) -> String {
    match check {
        None => {
            "never: run `sharesync doctor --deep`, or add a schedule with mode = \"check\"".into()
        }
        Some(c) => format!(
            "{} {} UTC by {}: {}",
            if c.disagreements == 0 {
                "✅"
            } else {
                "⚠️"
            },
            c.checked_at.format("%Y-%m-%d %H:%M"),
            trigger_label(&Trigger::parse(&c.checked_by)),
            escape(&c.summary)
        ),
    }
}

/// The next `n` occurrences of every schedule after `now`, one line each (for /sync-status).
pub fn upcoming_lines(schedules: &[ScheduleConfig], now: DateTime<Utc>, n: usize) -> Vec<String> {
    schedules
        .iter()
        .map(|s| {
            let next: Vec<String> = s
                .cron
                .upcoming(s.timezone, now, n)
                .into_iter()
                .map(when)
                .collect();
            format!(
                "**{}** ({}, pair {}): `{}` {} → {}",
                escape(&s.name),
                s.mode.as_str(),
                escape(&s.pair),
                s.cron,
                s.timezone,
                if next.is_empty() {
                    "never".to_string()
                } else {
                    next.join(", ")
                }
            )
        })
        .collect()
}
