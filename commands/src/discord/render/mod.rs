//! Pure rendering: a plan (or a run's results, a status) → message pages that respect Discord's
//! limits. Pages are plain data ([`Page`]) so tests can measure them; nothing here talks to
//! Discord (`respond.rs` turns pages into serenity builders).
//!
//! * `page.rs`   — [`Page`], its embeds and buttons, and Discord's limits.
//! * `text.rs`   — cutting, escaping and labels.
//! * `pack.rs`   — lines → fields → pages.
//! * `plan.rs`   — a plan's pages and its Confirm page.
//! * `run.rs`    — a run's progress and result.
//! * `notice.rs` — short notices.
//! * `status.rs` — `/sync-status` and the schedules' next runs.
//! * `stored.rs` — a stored plan: context, why it cannot be applied, Confirm.
//! * `csv.rs`    — downloads.

mod csv;
mod notice;
mod pack;
mod page;
mod plan;
mod run;
mod status;
mod stored;
mod text;

pub use self::csv::*;
pub use notice::*;
pub use pack::*;
pub use page::*;
pub use plan::*;
pub use run::*;
pub use status::*;
pub use stored::*;
pub use text::*;

#[cfg(test)]
mod tests;
