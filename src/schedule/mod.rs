//! Scheduled syncs: each `[[schedule]]` plans its pair when its cron expression fires, and either
//! reports the plan (`report`: a front end posts it for approval) or applies it (`apply`); or,
//! instead of planning, cross-checks the pair's servers through both API families (`check`).
//!
//! [`Scheduler::run_due`] is the whole decision, at an instant the caller passes in, so tests
//! drive it at fixed times. The front end's loop calls it every [`TICK`] with an injected
//! [`Clock`](crate::clock::Clock) (the bot's, in `commands/src/discord/scheduled.rs`, which also holds its shutdown
//! guard around each pass).
//!
//! * **State** lives in the store: when each schedule was first seen (`armed_at`; occurrences
//!   before it never count) and the last occurrence handled. An occurrence is claimed (marked
//!   handled by one conditional update) *before* it runs, so a crash never runs it twice and of
//!   two schedulers on one database (two bot processes) exactly one runs it; the other does
//!   nothing.
//! * **Downtime:** occurrences that fell while no scheduler was running are run once, together,
//!   when `catch_up` is set (the default), or skipped with a log line.
//! * **Blast radius:** an `apply` run whose plan is over a `[limits]` blast-radius limit is
//!   not applied: it comes back as [`Outcome::OverLimit`], for the front end to post as a plan
//!   to approve with the limit and the numbers.
//! * **Reads that look wrong** (far below a server's last good read, see
//!   [`crate::guard::baseline`]) or incomplete plan nothing: [`Outcome::ReadLooksWrong`],
//!   announced once, not at every occurrence that meets the same refusal.
//! * **No overlap:** an `apply` run goes through the same [`Runner`] as a manual apply and
//!   takes the destination's lease (the same lease, in any process). A busy destination defers
//!   the run to the next call, not skips it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::apply::{Applied, ApplyError, ApplyRequest, Busy, RunReport, Runner, WriteLimiter};
use crate::config::{Config, ScheduleConfig, ScheduleMode};
use crate::guard::{
    blast::source_accounts, check_limits, deep_check, read_sharing_checked, Baselines, DeepCheck,
    DeepCheckError, OverLimit, ReadLooksWrong,
};
use crate::plan::Plan;
use crate::session::{SessionError, SharedSession};
use crate::store::{Store, StoreError, Trigger};

/// How often [`run`] looks for due schedules (so a run starts at most this late).
pub const TICK: Duration = Duration::from_secs(15);

/// What one scheduled run came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing to grant.
    InSync {
        /// The plan, with nothing to write.
        plan: Plan,
    },
    /// `report` mode with something to grant: the plan waits for an admin.
    ToApprove {
        /// The plan to approve.
        plan: Plan,
    },
    /// `apply` mode: the run's report.
    Applied {
        /// The plan applied.
        plan: Plan,
        /// What the run did.
        report: RunReport,
    },
    /// `apply` mode, but the plan is over a blast-radius limit: nothing was written; the plan
    /// waits for an admin, who may go over the limit knowingly.
    OverLimit {
        /// The plan, for an admin to approve over the limit.
        plan: Plan,
        /// Which limit, and the numbers.
        over: OverLimit,
    },
    /// The read looked wrong twice (against the servers' last good reads, or incomplete):
    /// nothing was planned. `first`: this refusal ([`ReadLooksWrong::key`]) has not been
    /// posted since the schedule's last read that passed (only the first is announced).
    ReadLooksWrong {
        /// What looked wrong.
        wrong: ReadLooksWrong,
        /// Not posted yet.
        first: bool,
    },
    /// `check` mode: the API families' cross-check of the pair's servers.
    Checked {
        /// What each family answered, and where they disagree.
        check: DeepCheck,
    },
    /// plex.tv rejected the Plex token: nothing was read or written, and nothing will be until
    /// the token is replaced (the front end says how).
    TokenRejected,
    /// The run could not start or stopped; `reason` says what happened.
    Failed {
        /// What happened, and what to do about it.
        reason: String,
    },
}

/// One schedule's run, for the front end to announce.
#[derive(Debug, Clone)]
pub struct ScheduledRun {
    /// The schedule, as configured.
    pub schedule: ScheduleConfig,
    /// The occurrence this run is for.
    pub due: DateTime<Utc>,
    /// It fell while sharesync was not running and is being caught up.
    pub caught_up: bool,
    /// When the run started, by the scheduler's clock.
    pub started: DateTime<Utc>,
    /// How long it took.
    pub took: Duration,
    /// The schedule's next occurrence after this run.
    pub next: Option<DateTime<Utc>>,
    /// What it came to.
    pub outcome: Outcome,
}

impl ScheduledRun {
    /// Whether the front end should post anything (quiet when in sync, if configured).
    pub fn worth_announcing(&self) -> bool {
        match &self.outcome {
            Outcome::InSync { .. } => !self.schedule.quiet_when_in_sync,
            Outcome::ReadLooksWrong { first, .. } => *first,
            Outcome::Checked { check } => {
                check.disagreements() > 0 || !self.schedule.quiet_when_in_sync
            }
            _ => true,
        }
    }

    /// The servers were read and the read passed the baselines (a refusal met again after it
    /// is news again).
    fn read_passed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::InSync { .. }
                | Outcome::ToApprove { .. }
                | Outcome::Applied { .. }
                | Outcome::OverLimit { .. }
        )
    }

    /// One line for the record and `sharesync schedules`.
    pub fn summary(&self) -> String {
        match &self.outcome {
            Outcome::InSync { .. } => "in sync".into(),
            Outcome::ToApprove { plan } => {
                format!("reported {} account(s) to update", plan.to_update().count())
            }
            Outcome::Applied { report, .. } => format!(
                "applied: run #{} {} ({} updated, {} libraries granted, {} failed)",
                report.run,
                report.status.as_str(),
                report.summary.accounts_updated,
                report.summary.libraries_changed,
                report.summary.accounts_failed
            ),
            Outcome::OverLimit { over, .. } => {
                format!("not applied, over a limit ({}): reported", over.numbers())
            }
            Outcome::ReadLooksWrong { wrong, .. } => format!("refused: {wrong}"),
            Outcome::Checked { check } => format!("checked: {}", check.summary()),
            Outcome::TokenRejected => "failed: plex.tv rejected the Plex token".into(),
            Outcome::Failed { reason } => format!("failed: {reason}"),
        }
    }
}

/// Runs the configured schedules when they are due (see the module docs).
pub struct Scheduler {
    config: Config,
    store: Store,
    /// The process's one plex.tv session (shared with the bot's commands).
    session: Arc<SharedSession>,
    limiter: Arc<WriteLimiter>,
    /// When this scheduler started: occurrences before it fell during downtime.
    started_at: DateTime<Utc>,
    /// One `run_due` at a time (the loop and a manual trigger must not both take a due run).
    pass: tokio::sync::Mutex<()>,
}

impl Scheduler {
    /// `started_at` is the clock's "now" when the process started (see [`Scheduler::run_due`]).
    pub fn new(
        config: Config,
        store: Store,
        session: Arc<SharedSession>,
        limiter: Arc<WriteLimiter>,
        started_at: DateTime<Utc>,
    ) -> Scheduler {
        Scheduler {
            config,
            store,
            session,
            limiter,
            started_at,
            pass: tokio::sync::Mutex::new(()),
        }
    }

    /// Run every schedule whose occurrence has come by `now` and has not been handled, one after
    /// another. Returns what each did (deferred runs, on a busy destination, return nothing).
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<Vec<ScheduledRun>, StoreError> {
        let _pass = self.pass.lock().await;
        let mut done = Vec::new();
        for schedule in &self.config.schedules {
            let state = self.store.arm_schedule(&schedule.name, now)?;
            let after = state.last_due.unwrap_or(state.armed_at).max(state.armed_at);
            let Some(due) = schedule.cron.latest_between(schedule.timezone, after, now) else {
                continue;
            };
            let caught_up = due < self.started_at;
            if caught_up && !schedule.catch_up {
                if self.store.claim_schedule_due(&schedule.name, due)? {
                    tracing::info!(schedule = %schedule.name, due = %due, "missed while sharesync was not running; skipped (catch_up = false)");
                }
                continue;
            }
            if let Some(run) = self.run_one(schedule, due, caught_up, now).await? {
                self.store.schedule_ran(
                    &schedule.name,
                    run.started,
                    run.started + chrono::Duration::from_std(run.took).unwrap_or_default(),
                    &run.summary(),
                    match &run.outcome {
                        Outcome::Applied { report, .. } => Some(report.run),
                        _ => None,
                    },
                )?;
                if run.read_passed() {
                    self.store.set_announced_refusal(&schedule.name, None)?;
                }
                done.push(run);
            }
        }
        Ok(done)
    }

    /// The front end posted `run`: a refusal is not posted again while it stays the same
    /// (recorded only now, so a post that failed is tried again at the next occurrence).
    pub fn announced(&self, run: &ScheduledRun) -> Result<(), StoreError> {
        match &run.outcome {
            Outcome::ReadLooksWrong { wrong, .. } => self
                .store
                .set_announced_refusal(&run.schedule.name, Some(&wrong.key())),
            _ => Ok(()),
        }
    }

    async fn run_one(
        &self,
        schedule: &ScheduleConfig,
        due: DateTime<Utc>,
        caught_up: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduledRun>, StoreError> {
        let clock = tokio::time::Instant::now();
        let finish = |outcome: Outcome| ScheduledRun {
            schedule: schedule.clone(),
            due,
            caught_up,
            started: now,
            took: clock.elapsed(),
            next: schedule.cron.next_after(schedule.timezone, now),
            outcome,
        };
        // `None`: another scheduler claimed this occurrence; this one does nothing.
        let claim = |outcome: Outcome| -> Result<Option<ScheduledRun>, StoreError> {
            Ok(self
                .store
                .claim_schedule_due(&schedule.name, due)?
                .then(|| finish(outcome)))
        };
        let failed = |reason: String| Outcome::Failed { reason };

        let Ok(pair) = self.config.pair(Some(&schedule.pair)) else {
            return claim(failed(format!(
                "no pair is named '{}'; fix schedule '{}' in the config",
                schedule.pair, schedule.name
            )));
        };
        let runner = Runner::new(&self.store, &self.config.limits).with_limiter(&self.limiter);
        if schedule.mode == ScheduleMode::Apply {
            // A destination another run holds: defer without signing in or reading plex.tv
            // (the lease is taken for real below, once the servers are known).
            match runner.check_free(&pair.dest) {
                Ok(()) => {}
                Err(Busy::Store(e)) => return Err(e),
                Err(busy) => {
                    tracing::info!(schedule = %schedule.name, "deferred: {busy}");
                    return Ok(None);
                }
            }
        }
        let session = match self.session.get().await {
            Ok(s) => s,
            Err(e) => return claim(session_failed(&e)),
        };
        let (source, dest) = match session.pair_servers(pair).await {
            Ok(servers) => servers,
            Err(e) => return claim(session_failed(&e)),
        };
        let trigger = Trigger::schedule(&schedule.name);
        let lease = match schedule.mode {
            ScheduleMode::Report | ScheduleMode::Check => None,
            ScheduleMode::Apply => match runner.lease(&dest, &trigger) {
                Ok(lease) => Some(lease),
                Err(Busy::Store(e)) => return Err(e),
                Err(busy) => {
                    tracing::info!(schedule = %schedule.name, "deferred: {busy}");
                    return Ok(None);
                }
            },
        };
        if !self.store.claim_schedule_due(&schedule.name, due)? {
            return Ok(None);
        }
        if schedule.mode == ScheduleMode::Check {
            let outcome =
                match deep_check(&session.client, &self.store, &[source, dest], &trigger).await {
                    Ok(check) => Outcome::Checked { check },
                    Err(DeepCheckError::Store(e)) => return Err(e),
                    Err(e) if e.is_token_rejected() => Outcome::TokenRejected,
                    Err(e) => failed(format!("{e}; the next occurrence will try again")),
                };
            return Ok(Some(finish(outcome)));
        }
        let options = pair.plan_options(vec![]);
        let read = read_sharing_checked(
            &session.client,
            &self.store,
            &source,
            &dest,
            Baselines::Check,
        )
        .await;
        let (state, plan) = match read.map_err(SessionError::from).and_then(|state| {
            let plan = crate::plan::plan(&state, &options)?;
            Ok((state, plan))
        }) {
            Ok(read) => read,
            Err(SessionError::ReadLooksWrong(wrong)) => {
                let posted = self.store.announced_refusal(&schedule.name)?;
                let first = posted.as_deref() != Some(wrong.key().as_str());
                return Ok(Some(finish(Outcome::ReadLooksWrong { wrong, first })));
            }
            Err(SessionError::Store(e)) => return Err(e),
            Err(e) => return Ok(Some(finish(session_failed(&e)))),
        };
        if plan.to_update().next().is_none() {
            return Ok(Some(finish(Outcome::InSync { plan })));
        }
        if schedule.mode == ScheduleMode::Report {
            return Ok(Some(finish(Outcome::ToApprove { plan })));
        }
        // Over a blast-radius limit: posted for approval from this read, without a second one
        // (the runner would refuse too, but after reading again, and a change between the two
        // reads would turn the refusal into a failure nobody is asked to approve).
        if let Err(over) = check_limits(&plan, source_accounts(&state), &self.config.limits) {
            return Ok(Some(finish(Outcome::OverLimit { plan, over })));
        }
        let request = ApplyRequest {
            pair: &pair.name,
            source: &source,
            dest: &dest,
            approved: &plan,
            options: &options,
            trigger: &trigger,
            allow_over_limits: false,
        };
        let outcome = match runner
            .apply(&session.client, &request, lease.as_ref(), |_| {})
            .await
        {
            Ok(Applied::Ran(report)) => Outcome::Applied {
                plan: plan.clone(),
                report,
            },
            Ok(Applied::NothingToApply) => Outcome::InSync { plan: plan.clone() },
            Err(ApplyError::Store(e)) => return Err(e),
            Err(ApplyError::TokenRejected { .. }) => Outcome::TokenRejected,
            Err(ApplyError::OverLimit(over)) => Outcome::OverLimit {
                plan: plan.clone(),
                over,
            },
            Err(ApplyError::Stale { .. }) => failed(
                "the servers changed while the run was starting, so nothing was written; the next occurrence will plan again".into(),
            ),
            Err(e) => failed(format!("{e}; the next occurrence will try again")),
        };
        Ok(Some(finish(outcome)))
    }
}

/// A session error as an outcome, with what happens next, for a notification nobody is
/// watching live.
fn session_failed(e: &SessionError) -> Outcome {
    let reason = match e {
        e if e.is_token_rejected() => return Outcome::TokenRejected,
        SessionError::ServerNotFound { .. } => {
            format!("{e}; fix the pair's source or dest in the config")
        }
        e => format!("{e}; the next occurrence will try again"),
    };
    Outcome::Failed { reason }
}
