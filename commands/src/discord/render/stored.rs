//! A plan as the store keeps it: its message context, why it cannot be applied now, and its
//! Confirm page with any blast-radius limit it goes over.

use chrono::{DateTime, Utc};
use sharesync::config::Limits;
use sharesync::guard::check_limits;
use sharesync::store::{PlanStatus, StoredPlan};

use super::page::Page;
use super::plan::{confirm_page, PlanContext};
use super::text::escape;

/// What a stored plan's message shows besides the plan: id, pair, status, expiry.
pub fn plan_context(p: &StoredPlan) -> PlanContext {
    PlanContext {
        plan_id: p.id.clone(),
        pair: p.pair.clone(),
        status: Some(p.status),
        note: None,
        expiry: Some(format!("expires {} UTC", p.expires_at.format("%H:%M"))),
    }
}

/// Why a stored plan cannot be applied now, in words for the admin.
pub fn not_applicable(p: &StoredPlan, now: DateTime<Utc>) -> Option<String> {
    match p.status {
        PlanStatus::Open if p.expired(now) => {
            Some("This plan has expired: run /sync-plan again for a fresh one.".into())
        }
        PlanStatus::Open => None,
        PlanStatus::Applying => Some("This plan is already being applied.".into()),
        PlanStatus::Applied => Some("This plan was already applied.".into()),
        PlanStatus::Failed => {
            Some("This plan's run stopped with an error: run /sync-plan again.".into())
        }
        PlanStatus::Cancelled => Some("This plan was cancelled.".into()),
        PlanStatus::Superseded => Some(
            "This plan was replaced by a newer one (the servers changed): use the newer plan."
                .into(),
        ),
    }
}

/// The Confirm page; over a blast-radius limit it names the limit and the numbers first, so
/// Confirm goes over it knowingly. The stored plan lists every account with source access
/// unless it was made for some accounts only; then the fraction is taken of those (stricter).
pub fn stored_confirm_page(stored: &StoredPlan, limits: &Limits, back_to: usize) -> Page {
    let mut context = plan_context(stored);
    if let Err(over) = check_limits(&stored.plan, stored.plan.users.len(), limits) {
        context.note = Some(format!(
            "⚠️ **Over the blast-radius limit**: {}. Confirm goes over it for this plan only.",
            escape(&over.numbers())
        ));
    }
    confirm_page(&stored.plan, &context, back_to)
}
