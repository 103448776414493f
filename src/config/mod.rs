//! Typed configuration: one TOML file, then environment variables (`SHARESYNC_<SECTION>__<KEY>`
//! and the seed script's `PLEX_*` variables). Front ends load `.env` before calling [`Config::load`].
//! An invalid file fails here, with the key and the reason (never a secret's value).
//!
//! * `settings.rs` — [`Config`] and its sections; `limits.rs` — `[limits]`.
//! * `load.rs`     — reading the file, layering the environment (`env.rs`), checking the result.
//! * `files.rs`    — the data directory and the files in it.
//! * `keys.rs`     — what a variable can set; `error.rs` — errors and notices.

mod env;
mod error;
mod files;
mod keys;
mod limits;
mod load;
mod settings;

pub use env::{Env, ProcessEnv};
pub use error::{ConfigError, ConfigNotice};
pub use files::{default_data_dir, Directories, DEFAULT_CONFIG_FILE, LEGACY_DATA_DIR};
pub use limits::Limits;
pub use settings::{Config, DiscordConfig, PairConfig, PlexConfig, ScheduleConfig, ScheduleMode};
