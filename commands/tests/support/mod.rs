//! Test support for the bot's end-to-end tests: the fake Discord and payload builders.
#![allow(dead_code)]

pub mod fake_discord;
pub mod fixtures;
