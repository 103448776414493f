//! The `sharesync` binary: parse the command line, run the command, turn errors into one line.

mod cli;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::main().await
}
