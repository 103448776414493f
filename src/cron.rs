//! When a schedule fires: a 5-field cron expression (crontab habits: day-of-month OR
//! day-of-week, `@daily` and friends) in an IANA time zone. Parsed when the config is read, so
//! a bad expression or zone stops sharesync at start with the key and the reason.
//!
//! Daylight saving follows cron's habit: a time that does not exist (the spring-forward gap)
//! fires at the first valid instant after it, and a time that happens twice (fall back) fires
//! once, at the first.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    cron: croner::Cron,
}

impl FromStr for CronExpr {
    type Err = String;
    fn from_str(text: &str) -> Result<CronExpr, String> {
        let text = text.trim();
        let fields = text.split_whitespace().count();
        if !text.starts_with('@') && fields != 5 {
            return Err(format!(
                "'{text}' has {fields} fields; use 5 (minute hour day-of-month month day-of-week), such as \"0 3 * * *\""
            ));
        }
        let cron = croner::Cron::new(text).parse().map_err(|e| {
            format!("'{text}' is not a cron expression ({e}); such as \"0 3 * * *\"")
        })?;
        Ok(CronExpr {
            text: text.to_string(),
            cron,
        })
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CronExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// An IANA time zone (`Europe/Berlin`, `UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(chrono_tz::UTC)
    }
}

impl FromStr for TimeZone {
    type Err = String;
    fn from_str(text: &str) -> Result<TimeZone, String> {
        text.trim().parse().map(TimeZone).map_err(|_| {
            format!("'{text}' is not a time zone; use an IANA name such as \"Europe/Berlin\" or \"UTC\"")
        })
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Occurrences further apart than this are not searched for (a malformed state, a clock
/// years off): the search gives up rather than spin.
const MAX_STEPS: usize = 200_000;

impl CronExpr {
    /// The first occurrence strictly after `after`.
    pub fn next_after(&self, zone: TimeZone, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // croner searches local wall-clock time; inside a repeated (fall-back) hour it can
        // answer with the first instance of a time that is already past. Search on from there.
        let mut from = after;
        for _ in 0..3 {
            let t = self
                .cron
                .find_next_occurrence(&from.with_timezone(&zone.0), false)
                .ok()?
                .with_timezone(&Utc);
            if t > after {
                return Some(t);
            }
            from = t;
        }
        None
    }

    /// The next `n` occurrences after `after`.
    pub fn upcoming(&self, zone: TimeZone, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        std::iter::successors(self.next_after(zone, after), |t| self.next_after(zone, *t))
            .take(n)
            .collect()
    }

    /// The latest occurrence in `(after, until]`, if any.
    pub fn latest_between(
        &self,
        zone: TimeZone,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        std::iter::successors(self.next_after(zone, after), |t| self.next_after(zone, *t))
            .take(MAX_STEPS)
            .take_while(|t| *t <= until)
            .last()
    }
}
