//! sharesync's front ends as a library, so the end-to-end tests start the real bot through the
//! same function as `sharesync bot`. The CLI lives in the binary (`main.rs`, `cli/`).

pub mod discord;
