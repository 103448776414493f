//! One writer per destination server: the SQLite lease every front end (the CLI's `sync
//! --apply`, `apply FILE` and `undo`, the bot's Confirm, a schedule) takes BEFORE its stale-check
//! read and keeps until the run is verified and recorded. It is shared by every process on the
//! database, so the bot, a schedule and a CLI in another container take turns.
//!
//! While held, a background task renews the lease's heartbeat (and its run's) every few seconds,
//! whatever the run is doing (a `Retry-After` wait included). A lease is taken over when its
//! holder is gone: on this host with its process id no longer alive (or reused by this very
//! process after a restart), or silent for `limits.lease_timeout_seconds` (another host, or a
//! frozen process). Taking over marks the dead holder's run `interrupted` at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::Utc;

use crate::config::Limits;
use crate::model::ServerRef;
use crate::store::{
    LeaseProcess, LeaseRecord, LeaseTake, NewRun, RunId, Store, StoreError, Trigger,
};

/// How a lease is kept alive and judged dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseSettings {
    /// No heartbeat for this long: the holder is dead.
    pub timeout: Duration,
    /// How often the holder renews (a third of the timeout, at most every 5 s).
    pub renew_every: Duration,
}

impl LeaseSettings {
    /// The timeout `limits.lease_timeout_seconds`, renewed every third of it (at most 5 s).
    pub fn from_limits(limits: &Limits) -> LeaseSettings {
        let timeout = Duration::from_secs(limits.lease_timeout_seconds.max(1));
        LeaseSettings {
            timeout,
            renew_every: (timeout / 3).min(Duration::from_secs(5)),
        }
    }
}

/// A destination someone else is writing to.
#[derive(Debug, thiserror::Error)]
pub enum Busy {
    /// A live holder has it (its record says who, since when, and which run).
    #[error("another run is in progress on {}: {} (started {} by {})", .0.dest.name, describe_run(.0.run), .0.started_at.format("%Y-%m-%d %H:%M:%S UTC"), .0.started_by)]
    Held(Box<LeaseRecord>),
    /// The record could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn describe_run(run: Option<RunId>) -> String {
    match run {
        Some(run) => format!("run {run}"),
        None => "a run checking its plan".into(),
    }
}

/// This process, as recorded in the leases it takes.
pub fn this_process() -> &'static LeaseProcess {
    static PROCESS: OnceLock<LeaseProcess> = OnceLock::new();
    PROCESS.get_or_init(|| LeaseProcess {
        pid: std::process::id(),
        host: pid_space(),
        instance: uuid::Uuid::new_v4().to_string(),
    })
}

/// Where this process's pid means something: the host name plus, on Linux, the pid namespace
/// and the boot. Containers beside each other often share a host name (host networking, or a
/// `hostname:`) while each has its own pids (the bot and a `compose run` are both pid 1), so a
/// pid is only checked for a holder in the same pid namespace of the same boot; any other holder
/// is judged by its heartbeat alone.
fn pid_space() -> String {
    let name = host_name();
    let ns = std::fs::read_link("/proc/self/ns/pid").ok();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
    match (ns, boot) {
        (Some(ns), Some(boot)) => {
            let ns = ns.to_string_lossy().replace("pid:", "pid ns ");
            let boot: String = boot.trim().chars().take(8).collect();
            format!("{name} ({ns}, boot {boot})")
        }
        _ => name,
    }
}

fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it
        // (or truncates, which the search for NUL below handles).
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            if !name.is_empty() {
                return name;
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

/// Whether process `pid` exists on this host.
fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let rc = unsafe { libc::kill(pid, 0) };
        // EPERM: it exists but belongs to someone else.
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true // unknown here: only the heartbeat timeout decides
    }
}

/// Whether a lease's holder is gone (see the module docs).
pub fn holder_is_dead(lease: &LeaseRecord, settings: &LeaseSettings) -> bool {
    let me = this_process();
    if lease.process.host == me.host {
        if lease.process.pid == me.pid {
            // Our own pid: ours only if taken by this very process start.
            return lease.process.instance != me.instance;
        }
        if !pid_alive(lease.process.pid) {
            return true;
        }
    }
    let silent = Utc::now()
        .signed_duration_since(lease.heartbeat_at)
        .to_std()
        .unwrap_or_default();
    silent > settings.timeout
}

/// End the leases of holders that are gone, marking their runs interrupted (before showing runs,
/// so a dead run is never shown `running`).
pub fn end_dead_leases(store: &Store, limits: &Limits) -> Result<Vec<LeaseRecord>, StoreError> {
    let settings = LeaseSettings::from_limits(limits);
    store.end_dead_leases(&|l| holder_is_dead(l, &settings))
}

/// The lease on one destination, held until dropped (which releases it).
#[derive(Debug)]
pub struct DestLease {
    store: Store,
    dest: ServerRef,
    holder: String,
    lost: Arc<AtomicBool>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl DestLease {
    /// Take `dest` for a run `started_by` someone: refused with [`Busy::Held`] while a live
    /// holder has it; a dead holder's lease is taken over and its run marked interrupted.
    /// Inside a Tokio runtime, a task renews the lease until it is dropped.
    pub fn acquire(
        store: &Store,
        dest: &ServerRef,
        started_by: &Trigger,
        settings: &LeaseSettings,
    ) -> Result<DestLease, Busy> {
        let holder = uuid::Uuid::new_v4().to_string();
        let is_dead = |l: &LeaseRecord| holder_is_dead(l, settings);
        match store.take_lease(dest, &holder, this_process(), started_by, &is_dead)? {
            LeaseTake::Busy(held) => return Err(Busy::Held(Box::new(held))),
            LeaseTake::Taken {
                took_over: Some(dead),
            } => tracing::warn!(
                dest = %dest.name,
                "took over the lease of a process that stopped (pid {} on {}); its run is marked interrupted",
                dead.process.pid,
                dead.process.host
            ),
            LeaseTake::Taken { took_over: None } => {}
        }
        let lost = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::runtime::Handle::try_current().ok().map(|rt| {
            let (store, dest, holder, lost) = (
                store.clone(),
                dest.clone(),
                holder.clone(),
                lost.clone(),
            );
            let every = settings.renew_every;
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match store.renew_lease(&dest.machine_id, &holder) {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(dest = %dest.name, "lost the destination lease (taken over as dead); writes stop");
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        // A busy database this once; the next beat tries again.
                        Err(e) => tracing::warn!(dest = %dest.name, "could not renew the lease: {e}"),
                    }
                }
            })
        });
        Ok(DestLease {
            store: store.clone(),
            dest: dest.clone(),
            holder,
            lost,
            heartbeat,
        })
    }

    /// The destination this lease holds.
    pub fn dest(&self) -> &ServerRef {
        &self.dest
    }

    /// Record a run's start under this lease (the lease names it from then on).
    pub fn start_run(&self, new: &NewRun<'_>) -> Result<RunId, StoreError> {
        debug_assert_eq!(new.dest.machine_id, self.dest.machine_id);
        self.store.start_leased_run(new, &self.holder)
    }

    /// Another process took the lease over (this one looked dead to it): stop writing.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for DestLease {
    fn drop(&mut self) {
        if let Some(task) = self.heartbeat.take() {
            task.abort();
        }
        if let Err(e) = self
            .store
            .release_lease(&self.dest.machine_id, &self.holder)
        {
            // Left behind, it is taken over once this process is gone or silent.
            tracing::warn!(dest = %self.dest.name, "could not release the lease: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MachineId;

    fn server(name: &str) -> ServerRef {
        ServerRef {
            name: name.into(),
            machine_id: MachineId(format!("{name}-id")),
        }
    }

    fn settings() -> LeaseSettings {
        LeaseSettings::from_limits(&Limits::default())
    }

    #[test]
    fn one_holder_per_destination_until_it_is_dropped() {
        let store = Store::open_in_memory().unwrap();
        let (a, b) = (server("doodoo"), server("other"));
        let who = Trigger::cli("alice");
        let held = DestLease::acquire(&store, &a, &who, &settings()).unwrap();
        let busy = DestLease::acquire(&store, &a, &Trigger::cli("bob"), &settings()).unwrap_err();
        let text = busy.to_string();
        assert!(
            text.starts_with(
                "another run is in progress on doodoo: a run checking its plan (started "
            ) && text.ends_with(" by cli:alice)"),
            "{text}"
        );
        let _other = DestLease::acquire(&store, &b, &who, &settings()).unwrap();
        drop(held);
        DestLease::acquire(&store, &a, &who, &settings()).unwrap();
    }

    #[test]
    fn a_lease_of_a_process_gone_from_this_host_is_taken_over() {
        let store = Store::open_in_memory().unwrap();
        let dest = server("doodoo");
        let mut dead = this_process().clone();
        dead.pid = u32::MAX - 1; // no such process
        let taken = store
            .take_lease(&dest, "old", &dead, &Trigger::cli("x"), &|_| false)
            .unwrap();
        assert!(matches!(taken, LeaseTake::Taken { took_over: None }));
        DestLease::acquire(&store, &dest, &Trigger::cli("y"), &settings())
            .expect("a dead pid on this host does not hold the destination");
    }

    #[test]
    fn this_pid_from_an_earlier_start_is_dead_but_another_hosts_live_pid_is_not() {
        let me = this_process();
        let lease = |process: LeaseProcess, ago: i64| LeaseRecord {
            dest: server("d"),
            holder: "h".into(),
            process,
            started_by: "cli:x".into(),
            started_at: Utc::now(),
            heartbeat_at: Utc::now() - chrono::Duration::seconds(ago),
            run: None,
        };
        let earlier_start = LeaseProcess {
            instance: "an earlier start".into(),
            ..me.clone()
        };
        assert!(holder_is_dead(&lease(earlier_start, 0), &settings()));
        assert!(!holder_is_dead(&lease(me.clone(), 0), &settings()));
        let elsewhere = LeaseProcess {
            host: "another-host".into(),
            pid: 1,
            instance: "i".into(),
        };
        assert!(!holder_is_dead(&lease(elsewhere.clone(), 5), &settings()));
        assert!(holder_is_dead(&lease(elsewhere, 61), &settings()));
    }

    /// Two containers with one host name (host networking) but their own pids: a holder in
    /// another pid namespace is never judged by a pid check here, only by its heartbeat.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_holder_in_another_pid_namespace_is_judged_by_its_heartbeat() {
        let me = this_process();
        assert!(me.host.contains("pid ns"), "{}", me.host);
        let other_container = LeaseProcess {
            host: format!("{} (pid ns [1], boot 00000000)", host_name()),
            pid: u32::MAX - 1, // not a process here, though alive in its own namespace
            instance: "i".into(),
        };
        let lease = |ago: i64| LeaseRecord {
            dest: server("d"),
            holder: "h".into(),
            process: other_container.clone(),
            started_by: "cli:x".into(),
            started_at: Utc::now(),
            heartbeat_at: Utc::now() - chrono::Duration::seconds(ago),
            run: None,
        };
        assert!(!holder_is_dead(&lease(0), &settings()));
        assert!(holder_is_dead(&lease(61), &settings()));
    }
}
