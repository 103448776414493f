//! A plan's pages: counts, one line per account, Prev/Next and the actions its status allows;
//! the Confirm page; what changed when a plan went stale.

use sharesync::plan::{Outcome, Plan, PlannedAccount};
use sharesync::store::PlanStatus;

use super::super::ids::{Action, CustomId};
use super::pack::{pack, Group, DESCRIPTION_BUDGET, FOOTER_RESERVE, LINE_MAX, PAGE_BUDGET};
use super::page::{
    ButtonSpec, EmbedSpec, FieldSpec, Page, Style, BLUE, DESCRIPTION_MAX, FOOTER_MAX, GREEN, GREY,
    ORANGE, RED, TITLE_MAX,
};
use super::text::{ellipsis, escape, mask_email, outcome_label};

fn account_line(u: &PlannedAccount) -> String {
    let name = escape(&mask_email(&u.display_name()));
    let detail = if !u.add.is_empty() {
        format!(
            " + {}",
            u.add
                .iter()
                .map(|a| escape(a))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else if !u.notes.is_empty() {
        format!(" — {}", escape(&u.notes.join("; ")))
    } else {
        String::new()
    };
    let mark = if u.less_restricted.is_empty() {
        ""
    } else {
        LESS_RESTRICTED_MARK
    };
    ellipsis(&format!("• **{name}**{mark}{detail}"), LINE_MAX)
}

/// After an account whose destination share is less restricted than its source share.
const LESS_RESTRICTED_MARK: &str = " 🔓";

fn plan_groups(plan: &Plan) -> Vec<Group> {
    Outcome::ALL
        .iter()
        .filter_map(|&o| {
            let lines: Vec<String> = plan
                .users
                .iter()
                .filter(|u| u.outcome == o)
                .map(account_line)
                .collect();
            (!lines.is_empty()).then(|| Group {
                label: outcome_label(o).to_string(),
                lines,
            })
        })
        .collect()
}

/// Accounts that get something and the number of libraries they get.
pub fn grant_totals(plan: &Plan) -> (usize, usize) {
    plan.to_update()
        .fold((0, 0), |(a, l), u| (a + 1, l + u.add.len()))
}

fn plan_description(plan: &Plan, note: Option<&str>) -> String {
    let mut d = String::new();
    if let Some(n) = note {
        d.push_str(&ellipsis(n, 1000));
        d.push_str("\n\n");
    }
    d.push_str(&format!(
        "**{}** → **{}**\n",
        escape(&ellipsis(&plan.source.name, 100)),
        escape(&ellipsis(&plan.dest.name, 100))
    ));
    let counts: Vec<String> = Outcome::ALL
        .iter()
        .map(|&o| (o, plan.count(o)))
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{}: {n}", outcome_label(o)))
        .collect();
    if counts.is_empty() {
        d.push_str("No account has access to a library on the source server.\n");
    } else {
        d.push_str(&counts.join(" · "));
        d.push('\n');
    }
    let (accounts, libraries) = grant_totals(plan);
    d.push_str(&format!(
        "{} accounts · **{libraries}** libraries to add for **{accounts}** accounts · nothing is ever removed",
        plan.users.len()
    ));
    let looser = plan.less_restricted();
    if looser > 0 {
        d.push_str(&format!(
            "\n{} **{looser}** less restricted on {} than on {} (sharesync never changes an existing share's restrictions)",
            LESS_RESTRICTED_MARK.trim(),
            escape(&ellipsis(&plan.dest.name, 100)),
            escape(&ellipsis(&plan.source.name, 100))
        ));
    }
    for w in plan.warnings.iter().take(5) {
        d.push_str(&format!("\n⚠ {}", escape(&ellipsis(w, 200))));
    }
    if plan.warnings.len() > 5 {
        d.push_str(&format!(
            "\n⚠ … and {} more warnings",
            plan.warnings.len() - 5
        ));
    }
    ellipsis(&d, DESCRIPTION_BUDGET)
}

/// What the plan message shows besides the plan itself.
#[derive(Debug, Clone, Default)]
pub struct PlanContext {
    pub plan_id: String,
    pub pair: String,
    pub status: Option<PlanStatus>,
    /// Shown first (a stale-check explanation, "cancelled by ...").
    pub note: Option<String>,
    /// "expires 12:30 UTC" and the like.
    pub expiry: Option<String>,
}

fn plan_title(plan: &Plan) -> String {
    ellipsis(
        &format!("Sync plan: {} → {}", plan.source.name, plan.dest.name),
        TITLE_MAX,
    )
}

/// How many pages the plan renders to.
pub fn plan_page_count(plan: &Plan, ctx: &PlanContext) -> usize {
    pages_for(plan, ctx).len()
}

fn pages_for(plan: &Plan, ctx: &PlanContext) -> Vec<Vec<FieldSpec>> {
    let fixed = plan_title(plan).chars().count()
        + plan_description(plan, ctx.note.as_deref()).chars().count()
        + FOOTER_RESERVE;
    pack(&plan_groups(plan), PAGE_BUDGET.saturating_sub(fixed))
}

/// Page `page` (0-based, clamped) of a plan, with Prev/Next and the actions its status allows.
pub fn plan_page(plan: &Plan, ctx: &PlanContext, page: usize) -> Page {
    plan_page_of(plan, ctx, &pages_for(plan, ctx), page)
}

/// Every page of a plan (packing once).
pub fn plan_pages(plan: &Plan, ctx: &PlanContext) -> Vec<Page> {
    let pages = pages_for(plan, ctx);
    (0..pages.len())
        .map(|p| plan_page_of(plan, ctx, &pages, p))
        .collect()
}

fn plan_page_of(plan: &Plan, ctx: &PlanContext, pages: &[Vec<FieldSpec>], page: usize) -> Page {
    let total = pages.len();
    let page = page.min(total - 1);
    let status = ctx.status.unwrap_or(PlanStatus::Open);
    let mut footer = format!(
        "Plan {} · pair {} · page {}/{}",
        ctx.plan_id,
        ctx.pair,
        page + 1,
        total
    );
    footer.push_str(&format!(" · {}", status.as_str()));
    if let (Some(e), PlanStatus::Open) = (&ctx.expiry, status) {
        footer.push_str(&format!(" · {e}"));
    }
    let colour = match status {
        PlanStatus::Open => BLUE,
        PlanStatus::Applying => ORANGE,
        PlanStatus::Applied => GREEN,
        PlanStatus::Failed => RED,
        PlanStatus::Cancelled | PlanStatus::Superseded => GREY,
    };
    let embed = EmbedSpec {
        title: plan_title(plan),
        description: plan_description(plan, ctx.note.as_deref()),
        fields: pages[page].clone(),
        footer: ellipsis(&footer, FOOTER_MAX),
        colour,
    };
    let id = ctx.plan_id.as_str();
    let mut rows = Vec::new();
    if total > 1 {
        rows.push(vec![
            ButtonSpec::new(
                CustomId::page(Action::Prev, id, page.saturating_sub(1) as u32),
                "◀ Prev",
                Style::Secondary,
                page == 0,
            ),
            ButtonSpec::new(
                CustomId::page(Action::Next, id, (page + 1).min(total - 1) as u32),
                "Next ▶",
                Style::Secondary,
                page + 1 >= total,
            ),
        ]);
    }
    let open = status == PlanStatus::Open;
    let mut actions = Vec::new();
    if open && plan.to_update().next().is_some() {
        actions.push(ButtonSpec::new(
            CustomId::new(Action::Apply, id),
            "Apply",
            Style::Success,
            false,
        ));
    }
    if open {
        actions.push(ButtonSpec::new(
            CustomId::new(Action::Cancel, id),
            "Cancel",
            Style::Danger,
            false,
        ));
    }
    actions.push(ButtonSpec::new(
        CustomId::new(Action::Download, id),
        "Download",
        Style::Secondary,
        false,
    ));
    rows.push(actions);
    Page {
        content: String::new(),
        embeds: vec![embed],
        rows,
    }
}

/// "Grant N libraries to M accounts on DEST?" with Confirm / Back.
pub fn confirm_page(plan: &Plan, ctx: &PlanContext, back_to: usize) -> Page {
    let (accounts, libraries) = grant_totals(plan);
    let title = ellipsis(
        &format!(
            "Grant {libraries} libraries to {accounts} accounts on {}?",
            plan.dest.name
        ),
        TITLE_MAX,
    );
    let mut description = format!(
        "From **{}** to **{}**. Only adds access: nothing is removed, sharing settings are left as they are.\n\
         The plan is read again before anything is written; if it changed, the new plan is shown instead.",
        escape(&ellipsis(&plan.source.name, 100)),
        escape(&ellipsis(&plan.dest.name, 100)),
    );
    if let Some(note) = &ctx.note {
        description = format!("{note}\n\n{description}");
    }
    let names: Vec<String> = plan.to_update().take(20).map(account_line).collect();
    if !names.is_empty() {
        description.push_str("\n\n");
        description.push_str(&names.join("\n"));
        if accounts > names.len() {
            description.push_str(&format!("\n… and {} more", accounts - names.len()));
        }
    }
    let embed = EmbedSpec {
        title,
        description: ellipsis(&description, DESCRIPTION_MAX.min(PAGE_BUDGET - 600)),
        fields: vec![],
        footer: ellipsis(
            &format!("Plan {} · pair {}", ctx.plan_id, ctx.pair),
            FOOTER_MAX,
        ),
        colour: ORANGE,
    };
    let id = ctx.plan_id.as_str();
    Page {
        content: String::new(),
        embeds: vec![embed],
        rows: vec![vec![
            ButtonSpec::new(
                CustomId::new(Action::Confirm, id),
                "Confirm",
                Style::Success,
                false,
            ),
            ButtonSpec::new(
                CustomId::page(Action::Back, id, back_to as u32),
                "Back",
                Style::Secondary,
                false,
            ),
        ]],
    }
}

/// What changed between an approved plan and a fresh one (at most 10 lines shown).
pub fn stale_note(differences: &[String]) -> String {
    let shown: Vec<String> = differences
        .iter()
        .take(10)
        .map(|d| format!("• {}", escape(d)))
        .collect();
    let more = match differences.len() {
        n if n > 10 => format!("\n… and {} more changes", n - 10),
        _ => String::new(),
    };
    format!(
        "⚠️ The servers changed since this plan was approved, so nothing was written. Review the new plan below and apply it again.\n{}{more}",
        shown.join("\n")
    )
}
