//! Text for messages: cutting to a limit, escaping names from plex.tv, labels.

use chrono::{DateTime, Utc};
use sharesync::plan::Outcome;
use sharesync::store::Trigger;

/// Cut to `max` characters, ending with an ellipsis when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Names come from plex.tv: keep them from turning into Discord markdown or mentions.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200b}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Grant => "Grant",
        Outcome::NewShare => "New share",
        Outcome::InSync => "In sync",
        Outcome::DestAll => "Already has all",
        Outcome::Pending => "Pending invite",
        Outcome::NoMatch => "No matching library",
        Outcome::Skipped => "Skipped",
    }
}

/// A name that is an e-mail address (a friend without a username or title), as a
/// channel-visible embed shows it: the local part's first character and the domain
/// (`a…@example.com`). Anything else is unchanged. Downloads keep the full address.
pub fn mask_email(name: &str) -> String {
    let trimmed = name.trim();
    match trimmed.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !trimmed.contains(char::is_whitespace) =>
        {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        _ => name.to_string(),
    }
}

/// Who started something, for a message: a mention for a Discord user, the schedule's name.
pub fn trigger_label(who: &Trigger) -> String {
    match who.as_str().split_once(':') {
        Some(("discord", id)) if id.parse::<u64>().is_ok() => format!("<@{id}>"),
        Some(("schedule", name)) => format!("schedule **{}**", escape(name)),
        _ => escape(who.as_str()),
    }
}

/// A time as messages show it: "2026-01-10 03:00 UTC".
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
