//! Test support for the front ends' tests: the fake Discord and its payload builders, and the
//! simulated plex.tv served for the built binary.
#![allow(dead_code)]

pub mod fake_discord;
pub mod fixtures;
pub mod plex;
