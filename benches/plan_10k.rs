//! Benchmark (issue 2): plan 10,000 accounts on two servers with 20 libraries each against the
//! simulated plex.tv with 50 ms added latency per request, through the real client over
//! loopback HTTP. Prints wall time, request count and peak RSS. The simulated plex.tv runs in a
//! child process (this same binary, re-executed) so the RSS is sharesync's alone.
//!
//!     cargo bench --bench plan_10k
//!     SHARESYNC_BENCH_API=legacy cargo bench --bench plan_10k
//!     SHARESYNC_BENCH_ACCOUNTS=2000 cargo bench --bench plan_10k

use std::time::{Duration, Instant};

use secrecy::SecretString;
use sharesync::plan::{plan, PlanOptions};
use sharesync::plex::{ApiFamily, ClientOptions, PlexClient};
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::session::find_server;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Child role: serve the scenario, print "URL TOKEN", live until stdin closes.
async fn serve_sandbox(accounts: usize) {
    let sandbox = Sandbox::start(Scenario::generated(accounts, 20, 42))
        .await
        .expect("sandbox");
    sandbox.set_latency(Duration::from_millis(50));
    println!("{} {}", sandbox.url(), sandbox.owner_token());
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await
    .ok();
}

#[tokio::main]
async fn main() {
    let accounts: usize = std::env::var("SHARESYNC_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let family = match std::env::var("SHARESYNC_BENCH_API").as_deref() {
        Ok("legacy") => ApiFamily::Legacy,
        _ => ApiFamily::V2,
    };
    if std::env::var("SHARESYNC_BENCH_ROLE").as_deref() == Ok("sandbox") {
        return serve_sandbox(accounts).await;
    }
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .env("SHARESYNC_BENCH_ROLE", "sandbox")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the simulated plex.tv");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("sandbox address");
    let (url, token) = line.trim().split_once(' ').expect("URL TOKEN");
    let mut opts = ClientOptions::new("bench-client");
    opts.base_url = Some(url.to_string());
    opts.token = Some(SecretString::from(token.to_string()));
    opts.family = family;
    let client = PlexClient::new(opts).expect("client");
    let rss_before = peak_rss_mb();

    let start = Instant::now();
    client.whoami().await.expect("whoami");
    let servers = client.owned_servers().await.expect("servers");
    let source = find_server(&servers, "noodle").expect("noodle");
    let dest = find_server(&servers, "doodoo").expect("doodoo");
    let state = client.read_sharing(&source, &dest).await.expect("read");
    let read_done = start.elapsed();
    let p = plan(&state, &PlanOptions::default()).expect("plan");
    let total = start.elapsed();

    println!("plan_10k: api={family:?} accounts={accounts} libraries/server=20 latency=50ms");
    println!(
        "  wall time: {:.3} s (reads {:.3} s, planning {:.3} s)",
        total.as_secs_f64(),
        read_done.as_secs_f64(),
        (total - read_done).as_secs_f64()
    );
    println!("  plex.tv requests: {}", client.request_count());
    println!(
        "  peak RSS: {:.1} MB (before reading: {:.1} MB)",
        peak_rss_mb(),
        rss_before
    );
    println!(
        "  plan: {} accounts, {} to update, {} grants",
        p.users.len(),
        p.summary.users_to_update,
        p.summary.grants_to_add
    );
    drop(child.stdin.take());
    let _ = child.wait();
}
