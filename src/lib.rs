//! sharesync engine: reads who sees which library on a Plex owner's servers, plans a sync from a
//! source server to a destination by library name, and applies it without ever removing access.
//! Knows nothing of Discord or terminals; the front ends in `commands/` sit on top.

#![warn(missing_docs)]

pub mod apply;
pub mod clock;
pub mod config;
pub mod cron;
pub mod guard;
pub mod model;
pub mod plan;
pub mod plex;
pub mod restrictions;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod schedule;
pub mod session;
pub mod store;
