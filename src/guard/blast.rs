//! Blast-radius limits (`[limits]` `max_accounts_per_run`, `max_new_shares_per_run`,
//! `max_fraction`): one pure check over a plan. sharesync never removes access, but a bad read
//! could still make one run grant far too much or create hundreds of shares (each one an invite
//! email) with nobody asked. Over a limit, a scheduled apply becomes a report, the CLI refuses
//! without `--allow-large`, and a Discord Confirm goes over knowingly.

use std::fmt;

use crate::config::Limits;
use crate::model::SharingState;
use crate::plan::{Outcome, Plan};

/// The relative limit never refuses a run that changes this many accounts or fewer: on a small
/// server a first sync legitimately changes most accounts, and ten is not a blast radius.
pub const FRACTION_FLOOR: usize = 10;

/// What a plan would write, in the numbers the limits speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlastRadius {
    /// Accounts the run would write to.
    pub accounts: usize,
    /// Destination shares it would create.
    pub new_shares: usize,
    /// Accounts with access on the source (what `max_fraction` is a fraction of).
    pub source_accounts: usize,
}

impl BlastRadius {
    /// What `plan` would write, with the source's accounts with access.
    pub fn of(plan: &Plan, source_accounts: usize) -> BlastRadius {
        BlastRadius {
            accounts: plan.to_update().count(),
            new_shares: plan
                .to_update()
                .filter(|u| u.outcome == Outcome::NewShare)
                .count(),
            source_accounts,
        }
    }
}

/// One of the blast-radius limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `max_accounts_per_run`.
    AccountsPerRun,
    /// `max_new_shares_per_run`.
    NewSharesPerRun,
    /// `max_fraction`.
    Fraction,
}

impl Limit {
    /// The config key that sets it.
    pub fn key(self) -> &'static str {
        match self {
            Limit::AccountsPerRun => "limits.max_accounts_per_run",
            Limit::NewSharesPerRun => "limits.max_new_shares_per_run",
            Limit::Fraction => "limits.max_fraction",
        }
    }
}

/// One limit a plan goes over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimitExceeded {
    /// Which limit.
    pub limit: Limit,
    /// What the plan would do (accounts or new shares).
    pub planned: usize,
    /// The most the limit lets one run do.
    pub allowed: usize,
    /// The configured fraction, for `max_fraction` (the other limits' setting is `allowed`).
    pub fraction: Option<f64>,
    /// Accounts with access on the source (what a fraction is of).
    pub source_accounts: usize,
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.limit.key();
        match self.limit {
            Limit::AccountsPerRun => write!(
                f,
                "{} accounts to update, {key} is {}",
                self.planned, self.allowed
            ),
            Limit::NewSharesPerRun => write!(
                f,
                "{} new shares to create, {key} is {}",
                self.planned, self.allowed
            ),
            Limit::Fraction => write!(
                f,
                "{} of the source's {} accounts to update, {key} is {} (at most {} per run)",
                self.planned,
                self.source_accounts,
                self.fraction.unwrap_or_default(),
                self.allowed
            ),
        }
    }
}

/// A plan over one or more limits: every limit it exceeds, with the numbers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the run is over the blast-radius limit: {}", describe(.exceeded))]
pub struct OverLimit {
    /// What the plan would write.
    pub radius: BlastRadius,
    /// Never empty.
    pub exceeded: Vec<LimitExceeded>,
}

fn describe(exceeded: &[LimitExceeded]) -> String {
    exceeded
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl OverLimit {
    /// The numbers, in one line: "240 accounts to update, limits.max_accounts_per_run is 200".
    pub fn numbers(&self) -> String {
        describe(&self.exceeded)
    }
}

/// Accounts that can see at least one library on the source.
pub fn source_accounts(state: &SharingState) -> usize {
    state.source.accounts_with_access()
}

/// Whether `plan` stays within `limits` (0 turns a limit off). Pure: the front ends decide what
/// over a limit means for them.
pub fn check_limits(
    plan: &Plan,
    source_accounts: usize,
    limits: &Limits,
) -> Result<BlastRadius, OverLimit> {
    let radius = BlastRadius::of(plan, source_accounts);
    let mut exceeded = Vec::new();
    for (limit, planned, allowed) in [
        (
            Limit::AccountsPerRun,
            radius.accounts,
            limits.max_accounts_per_run,
        ),
        (
            Limit::NewSharesPerRun,
            radius.new_shares,
            limits.max_new_shares_per_run,
        ),
    ] {
        if allowed > 0 && planned > allowed {
            exceeded.push(LimitExceeded {
                limit,
                planned,
                allowed,
                fraction: None,
                source_accounts,
            });
        }
    }
    if limits.max_fraction > 0.0 {
        let allowed =
            ((limits.max_fraction * source_accounts as f64).floor() as usize).max(FRACTION_FLOOR);
        if radius.accounts > allowed {
            exceeded.push(LimitExceeded {
                limit: Limit::Fraction,
                planned: radius.accounts,
                allowed,
                fraction: Some(limits.max_fraction),
                source_accounts,
            });
        }
    }
    if exceeded.is_empty() {
        Ok(radius)
    } else {
        Err(OverLimit { radius, exceeded })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountId, AccountKind};
    use crate::plan::{PlanSummary, PlannedAccount, ServerSummary, PLAN_SCHEMA};

    /// A plan with `grants` accounts to update, `new` shares to create and `in_sync` others.
    fn plan(grants: usize, new: usize, in_sync: usize) -> Plan {
        let line = |i: usize, outcome: Outcome| PlannedAccount {
            account_id: AccountId(i as u64),
            username: Some(format!("user{i}")),
            email: None,
            title: format!("user{i}"),
            kind: AccountKind::Friend,
            outcome,
            source_libraries: vec!["Movies".into()],
            add: if outcome.writes() {
                vec!["Movies".into()]
            } else {
                vec![]
            },
            notes: vec![],
            restrictions: None,
            less_restricted: vec![],
            add_ids: Default::default(),
        };
        let outcomes = std::iter::repeat_n(Outcome::Grant, grants)
            .chain(std::iter::repeat_n(Outcome::NewShare, new))
            .chain(std::iter::repeat_n(Outcome::InSync, in_sync));
        let server = |name: &str| ServerSummary {
            name: name.into(),
            machine_identifier: name.into(),
        };
        Plan {
            schema: PLAN_SCHEMA,
            source: server("noodle"),
            dest: server("doodoo"),
            users: outcomes.enumerate().map(|(i, o)| line(i, o)).collect(),
            warnings: vec![],
            summary: PlanSummary::default(),
        }
    }

    fn limits(accounts: usize, new_shares: usize, fraction: f64) -> Limits {
        Limits {
            max_accounts_per_run: accounts,
            max_new_shares_per_run: new_shares,
            max_fraction: fraction,
            ..Limits::default()
        }
    }

    fn exceeded(r: Result<BlastRadius, OverLimit>) -> Vec<(Limit, usize, usize)> {
        match r {
            Ok(_) => vec![],
            Err(o) => o
                .exceeded
                .iter()
                .map(|e| (e.limit, e.planned, e.allowed))
                .collect(),
        }
    }

    #[test]
    fn each_limit_names_itself_and_its_numbers() {
        let p = plan(30, 12, 58);
        assert_eq!(
            exceeded(check_limits(&p, 100, &limits(40, 50, 0.0))),
            vec![(Limit::AccountsPerRun, 42, 40)]
        );
        assert_eq!(
            exceeded(check_limits(&p, 100, &limits(0, 10, 0.0))),
            vec![(Limit::NewSharesPerRun, 12, 10)]
        );
        assert_eq!(
            exceeded(check_limits(&p, 100, &limits(0, 0, 0.4))),
            vec![(Limit::Fraction, 42, 40)]
        );
        let over = check_limits(&p, 100, &limits(40, 10, 0.4)).unwrap_err();
        assert_eq!(over.exceeded.len(), 3);
        let text = over.to_string();
        for words in [
            "42 accounts to update, limits.max_accounts_per_run is 40",
            "12 new shares to create, limits.max_new_shares_per_run is 10",
            "42 of the source's 100 accounts to update, limits.max_fraction is 0.4 (at most 40 per run)",
        ] {
            assert!(text.contains(words), "{words:?} not in {text}");
        }
    }

    #[test]
    fn at_the_limit_or_with_limits_off_the_plan_passes() {
        let p = plan(30, 12, 58);
        let radius = check_limits(&p, 100, &limits(42, 12, 0.42)).unwrap();
        assert_eq!(
            radius,
            BlastRadius {
                accounts: 42,
                new_shares: 12,
                source_accounts: 100
            }
        );
        assert!(check_limits(&p, 100, &limits(0, 0, 0.0)).is_ok());
        // The defaults let this plan through, and refuse a ten times larger one.
        assert!(check_limits(&p, 100, &Limits::default()).is_ok());
        assert_eq!(
            exceeded(check_limits(&plan(300, 120, 580), 1000, &Limits::default())),
            vec![
                (Limit::AccountsPerRun, 420, 200),
                (Limit::NewSharesPerRun, 120, 50)
            ]
        );
    }

    #[test]
    fn the_fraction_never_refuses_a_run_of_ten_accounts_or_fewer() {
        let all_of_a_small_server = plan(10, 0, 0);
        assert!(check_limits(&all_of_a_small_server, 10, &limits(0, 0, 0.1)).is_ok());
        assert_eq!(
            exceeded(check_limits(&plan(11, 0, 0), 11, &limits(0, 0, 0.5))),
            vec![(Limit::Fraction, 11, 10)]
        );
    }
}
