//! A run's progress and its final result, as one page.

use sharesync::apply::RunReport;
use sharesync::plan::Plan;
use sharesync::store::AccountResult;

use super::super::ids::{Action, CustomId};
use super::pack::{pack, Group, DESCRIPTION_BUDGET, FOOTER_RESERVE, PAGE_BUDGET};
use super::page::{ButtonSpec, EmbedSpec, Page, Style, GREEN, ORANGE, RED, TITLE_MAX};
use super::text::{ellipsis, escape, mask_email};

/// One account's result in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultLine {
    pub name: String,
    pub ok: bool,
    /// What was granted, or why it failed.
    pub detail: String,
}

/// A run's progress or its final result: one page; lines that do not fit are counted.
pub fn run_page(
    plan: &Plan,
    plan_id: &str,
    lines: &[ResultLine],
    done: usize,
    total: usize,
    finished: bool,
    note: Option<&str>,
) -> Page {
    let failed = lines.iter().filter(|l| !l.ok).count();
    let title = ellipsis(
        &if finished {
            format!("Applied: {} → {}", plan.source.name, plan.dest.name)
        } else {
            format!("Applying: {} → {}", plan.source.name, plan.dest.name)
        },
        TITLE_MAX,
    );
    let mut description = String::new();
    if let Some(n) = note {
        description.push_str(&ellipsis(n, 1000));
        description.push_str("\n\n");
    }
    description.push_str(&format!(
        "{done}/{total} accounts done · {} succeeded · {failed} failed · nothing was removed",
        lines.iter().filter(|l| l.ok).count()
    ));
    let description = ellipsis(&description, DESCRIPTION_BUDGET);
    let groups = vec![
        Group {
            label: "Failed".into(),
            lines: lines
                .iter()
                .filter(|l| !l.ok)
                .map(|l| {
                    format!(
                        "• **{}** — {}",
                        escape(&mask_email(&l.name)),
                        escape(&l.detail)
                    )
                })
                .collect(),
        },
        Group {
            label: "Granted".into(),
            lines: lines
                .iter()
                .filter(|l| l.ok)
                .map(|l| {
                    format!(
                        "• **{}** + {}",
                        escape(&mask_email(&l.name)),
                        escape(&l.detail)
                    )
                })
                .collect(),
        },
    ];
    let groups: Vec<Group> = groups.into_iter().filter(|g| !g.lines.is_empty()).collect();
    let budget = PAGE_BUDGET
        .saturating_sub(title.chars().count() + description.chars().count() + FOOTER_RESERVE);
    let pages = pack(&groups, budget);
    let shown: usize = pages[0].iter().map(|f| f.value.lines().count()).sum();
    let mut footer = format!("Plan {plan_id}");
    if shown < lines.len() {
        footer.push_str(&format!(
            " · {} more accounts not shown: use Download for the full list",
            lines.len() - shown
        ));
    }
    let colour = match (finished, failed) {
        (false, _) => ORANGE,
        (true, 0) => GREEN,
        (true, _) => RED,
    };
    let embed = EmbedSpec {
        title,
        description,
        fields: pages[0].clone(),
        footer,
        colour,
    };
    let rows = vec![vec![ButtonSpec::new(
        CustomId::new(Action::Download, plan_id),
        "Download",
        Style::Secondary,
        false,
    )]];
    Page {
        content: String::new(),
        embeds: vec![embed],
        rows,
    }
}

/// A run's accounts as result lines: what was granted, or why not.
pub fn result_lines(report: &RunReport) -> Vec<ResultLine> {
    report
        .accounts
        .iter()
        .map(|a| {
            let ok = matches!(a.result, AccountResult::Applied | AccountResult::Skipped);
            let detail = match a.result {
                AccountResult::Applied if a.libraries.is_empty() => "already in place".to_string(),
                AccountResult::Applied => a.libraries.join(", "),
                _ => {
                    let mut d = format!(
                        "{}: {}",
                        a.result.as_str(),
                        a.reason.clone().unwrap_or_default()
                    );
                    if !a.missing.is_empty() {
                        d.push_str(&format!(" (missing: {})", a.missing.join(", ")));
                    }
                    d
                }
            };
            ResultLine {
                name: a.name.clone(),
                ok,
                detail,
            }
        })
        .collect()
}
