//! Benchmark (issues 3 and 12): apply 1,000 (or SHARESYNC_BENCH_GRANTS, e.g. 10,000) grants
//! against the simulated plex.tv with 50 ms added latency per request, through the real client over loopback HTTP, recording into a real
//! SQLite file. 1,000 friends each gain one library on the destination: 800 through an update
//! of their existing share (the union with the two libraries they have), 200 through a new
//! share.
//! Prints wall time (and the floor the writes alone set), request counts, bytes read (in all and
//! per write) and peak RSS (of this process, which also hosts the simulated plex.tv).
//!
//!     cargo bench --bench apply_1k                                  # (a) limiter off, concurrency 8
//!     SHARESYNC_BENCH_VARIANT=defaults cargo bench --bench apply_1k # (b) 2 writes/s, concurrency 2 (~500 s)
//!     SHARESYNC_BENCH_API=legacy cargo bench --bench apply_1k
//!     SHARESYNC_BENCH_GRANTS=10000 cargo bench --bench apply_1k

use std::time::{Duration, Instant};

use secrecy::SecretString;
use sharesync::apply::{apply, ApplyJob, Progress};
use sharesync::config::Limits;
use sharesync::plan::{plan, PlanOptions};
use sharesync::plex::{ApiFamily, ClientOptions, PlexClient};
use sharesync::sandbox::{Sandbox, Scenario};
use sharesync::session::find_server;
use sharesync::store::{AccountResult, Store, Trigger};

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

fn scenario(grants: usize) -> Scenario {
    // 1 in 5 accounts has no destination share and sees only Music on the source, so the
    // plan creates a share with Music; the others update theirs with Movies.
    let libs = [
        ("Movies", "movie"),
        ("TV Shows", "show"),
        ("Music", "artist"),
        ("Kids", "movie"),
    ];
    let mut b = Scenario::builder()
        .server("noodle", &libs)
        .server("doodoo", &libs);
    for i in 0..grants {
        b = b.friend(&format!("user{i:05}"));
    }
    for i in 0..grants {
        let name = format!("user{i:05}");
        if i % 5 != 0 {
            b = b.share("noodle", &name, ["Movies", "Music"]).share(
                "doodoo",
                &name,
                ["Music", "Kids"],
            );
        } else {
            b = b.share("noodle", &name, ["Music"]);
        }
    }
    b.build()
}

#[tokio::main]
async fn main() {
    let grants: usize = std::env::var("SHARESYNC_BENCH_GRANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let family = match std::env::var("SHARESYNC_BENCH_API").as_deref() {
        Ok("legacy") => ApiFamily::Legacy,
        _ => ApiFamily::V2,
    };
    let (variant, limits) = match std::env::var("SHARESYNC_BENCH_VARIANT").as_deref() {
        Ok("defaults") => (
            "defaults (2 writes/s, concurrency 2)",
            Limits::no_blast_limits(),
        ),
        _ => (
            "limiter off, concurrency 8",
            Limits {
                writes_per_second: 0.0,
                concurrency: 8,
                ..Limits::no_blast_limits()
            },
        ),
    };
    let sandbox = Sandbox::start(scenario(grants)).await.expect("sandbox");
    let mut opts = ClientOptions::new("bench-client");
    opts.base_url = Some(sandbox.url());
    opts.token = Some(SecretString::from(sandbox.owner_token()));
    opts.family = family;
    let client = PlexClient::new(opts).expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("sharesync.sqlite")).expect("store");

    let servers = client.owned_servers().await.expect("servers");
    let source = find_server(&servers, "noodle").expect("noodle");
    let dest = find_server(&servers, "doodoo").expect("doodoo");
    let options = PlanOptions::default();
    let state = client.read_sharing(&source, &dest).await.expect("read");
    let approved = plan(&state, &options).expect("plan");
    assert_eq!(
        approved.summary.grants_to_add, grants,
        "the scenario plans {grants} grants"
    );
    let rss_before = peak_rss_mb();

    sandbox.set_latency(Duration::from_millis(50));
    sandbox.clear_requests();
    let requests_before = client.request_count();
    let bytes_before = client.bytes_read();
    let trigger = Trigger::other("bench", "apply_1k");
    let job = ApplyJob::new(
        "bench", &source, &dest, &approved, &options, &limits, &trigger,
    );
    let start = Instant::now();
    let report = apply(&client, &store, &job, |p: Progress| {
        if let Progress::AccountDone { done, total, .. } = p {
            if done % 100 == 0 {
                eprintln!("  {done}/{total} accounts");
            }
        }
    })
    .await
    .expect("apply");
    let wall = start.elapsed();
    let requests = client.request_count() - requests_before;
    let bytes = client.bytes_read() - bytes_before;
    let log = sandbox.requests();
    let writes = log.iter().filter(|r| r.method != "GET").count();

    println!("apply_1k: api={family:?} grants={grants} latency=50ms variant={variant}");
    let concurrency = limits.concurrency.max(1) as f64;
    let floor = writes as f64 * 0.050 / concurrency;
    println!(
        "  wall time: {:.1} s (the writes alone: {writes} x 50 ms / {concurrency} = {floor:.1} s; ratio {:.2})",
        wall.as_secs_f64(),
        wall.as_secs_f64() / floor
    );
    println!(
        "  bytes read: {:.1} MB ({:.0} bytes per write)",
        bytes as f64 / 1e6,
        bytes as f64 / writes.max(1) as f64
    );
    println!(
        "  plex.tv requests: {requests} ({writes} writes, {} reads)",
        requests as usize - writes
    );
    println!(
        "  peak RSS: {:.1} MB (after sandbox setup: {:.1} MB)",
        peak_rss_mb(),
        rss_before
    );
    println!(
        "  result: {} applied, {} failed, {} libraries granted, verified={}",
        report.count(AccountResult::Applied),
        report.count(AccountResult::Failed),
        report.summary.libraries_changed,
        report.summary.verified
    );
}
