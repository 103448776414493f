//! Pure rendering: a plan (or a run's results) → message pages that respect Discord's limits
//! (shared/discord-testing.md §3). Pages are plain data ([`Page`]) so tests can measure them;
//! `Page::embeds()` / `Page::components()` turn them into serenity builders.

use poise::serenity_prelude as serenity;
use sharesync::plan::{Outcome, Plan, PlannedAccount};
use sharesync::restrictions;

use super::ids::{Action, CustomId};
use sharesync::apply::RunReport;
use sharesync::guard::ReadLooksWrong;
use sharesync::store::{AccountResult, PlanStatus, Trigger};

pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FIELDS_MAX: usize = 25;
pub const FOOTER_MAX: usize = 2048;
pub const MESSAGE_EMBED_TOTAL_MAX: usize = 6000;
pub const CONTENT_MAX: usize = 2000;
pub const ROWS_MAX: usize = 5;
pub const BUTTONS_PER_ROW_MAX: usize = 5;
pub const CUSTOM_ID_MAX: usize = 100;

/// What a page may use of the 6,000 characters, leaving a margin.
const PAGE_BUDGET: usize = 5600;
/// Fields per page: Discord allows 25, a dozen reads better (robbb does the same).
const FIELDS_PER_PAGE: usize = 12;
/// One account's line.
const LINE_MAX: usize = 200;
/// Room kept for the footer when packing fields.
const FOOTER_RESERVE: usize = 200;
const DESCRIPTION_BUDGET: usize = 1800;

const GREEN: u32 = 0x2e_cc_71;
const BLUE: u32 = 0x34_98_db;
const GREY: u32 = 0x95_a5_a6;
const RED: u32 = 0xe7_4c_3c;
const ORANGE: u32 = 0xe6_7e_22;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmbedSpec {
    pub title: String,
    pub description: String,
    pub fields: Vec<FieldSpec>,
    pub footer: String,
    pub colour: u32,
}

impl EmbedSpec {
    /// Characters Discord counts towards the 6,000 total.
    pub fn chars(&self) -> usize {
        self.title.chars().count()
            + self.description.chars().count()
            + self.footer.chars().count()
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }

    pub fn to_embed(&self) -> serenity::CreateEmbed {
        let mut e = serenity::CreateEmbed::new()
            .title(&self.title)
            .colour(self.colour);
        if !self.description.is_empty() {
            e = e.description(&self.description);
        }
        for f in &self.fields {
            e = e.field(&f.name, &f.value, false);
        }
        if !self.footer.is_empty() {
            e = e.footer(serenity::CreateEmbedFooter::new(&self.footer));
        }
        e
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Primary,
    Secondary,
    Success,
    Danger,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonSpec {
    pub custom_id: String,
    pub label: String,
    pub style: Style,
    pub disabled: bool,
}

impl ButtonSpec {
    fn new(id: CustomId, label: &str, style: Style, disabled: bool) -> ButtonSpec {
        ButtonSpec {
            custom_id: id.encode(),
            label: label.to_string(),
            style,
            disabled,
        }
    }
}

/// One message: embeds plus rows of buttons.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub content: String,
    pub embeds: Vec<EmbedSpec>,
    pub rows: Vec<Vec<ButtonSpec>>,
}

impl Page {
    pub fn embeds(&self) -> Vec<serenity::CreateEmbed> {
        self.embeds.iter().map(EmbedSpec::to_embed).collect()
    }

    pub fn components(&self) -> Vec<serenity::CreateActionRow> {
        self.rows
            .iter()
            .filter(|r| !r.is_empty())
            .map(|row| {
                serenity::CreateActionRow::Buttons(
                    row.iter()
                        .map(|b| {
                            serenity::CreateButton::new(&b.custom_id)
                                .label(&b.label)
                                .style(match b.style {
                                    Style::Primary => serenity::ButtonStyle::Primary,
                                    Style::Secondary => serenity::ButtonStyle::Secondary,
                                    Style::Success => serenity::ButtonStyle::Success,
                                    Style::Danger => serenity::ButtonStyle::Danger,
                                })
                                .disabled(b.disabled)
                        })
                        .collect(),
                )
            })
            .collect()
    }

    /// The same page with every button disabled (a finished or refused flow).
    pub fn disabled(mut self) -> Page {
        for b in self.rows.iter_mut().flatten() {
            b.disabled = true;
        }
        self
    }

    /// Every limit of discord-testing.md §3 that applies to a message; the error names the first
    /// one broken.
    pub fn check_limits(&self) -> Result<(), String> {
        if self.content.chars().count() > CONTENT_MAX {
            return Err("content over 2000".into());
        }
        if self.embeds.len() > 10 {
            return Err("more than 10 embeds".into());
        }
        let total: usize = self.embeds.iter().map(EmbedSpec::chars).sum();
        if total > MESSAGE_EMBED_TOTAL_MAX {
            return Err(format!("embeds total {total} > 6000"));
        }
        for e in &self.embeds {
            if e.title.is_empty() || e.title.chars().count() > TITLE_MAX {
                return Err(format!("title length {}", e.title.chars().count()));
            }
            if e.description.chars().count() > DESCRIPTION_MAX {
                return Err("description over 4096".into());
            }
            if e.footer.chars().count() > FOOTER_MAX {
                return Err("footer over 2048".into());
            }
            if e.fields.len() > FIELDS_MAX {
                return Err(format!("{} fields", e.fields.len()));
            }
            for f in &e.fields {
                let (n, v) = (f.name.chars().count(), f.value.chars().count());
                if n == 0 || n > FIELD_NAME_MAX || v == 0 || v > FIELD_VALUE_MAX {
                    return Err(format!("field sizes {n}/{v}"));
                }
            }
        }
        if self.rows.len() > ROWS_MAX {
            return Err(format!("{} rows", self.rows.len()));
        }
        let mut ids = std::collections::HashSet::new();
        for row in &self.rows {
            if row.len() > BUTTONS_PER_ROW_MAX {
                return Err(format!("{} buttons in a row", row.len()));
            }
            for b in row {
                if b.custom_id.is_empty() || b.custom_id.len() > CUSTOM_ID_MAX {
                    return Err(format!("custom id {}", b.custom_id));
                }
                if b.label.chars().count() > 80 {
                    return Err("button label over 80".into());
                }
                if !ids.insert(b.custom_id.clone()) {
                    return Err(format!("duplicate custom id {}", b.custom_id));
                }
            }
        }
        Ok(())
    }
}

/// Cut to `max` characters, ending with an ellipsis when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Names come from plex.tv: keep them from turning into Discord markdown or mentions.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200b}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Grant => "Grant",
        Outcome::NewShare => "New share",
        Outcome::InSync => "In sync",
        Outcome::DestAll => "Already has all",
        Outcome::Pending => "Pending invite",
        Outcome::NoMatch => "No matching library",
        Outcome::Skipped => "Skipped",
    }
}

/// A name that is an e-mail address (a friend without a username or title), as a
/// channel-visible embed shows it: the local part's first character and the domain
/// (`a…@example.com`). Anything else is unchanged. Downloads keep the full address.
pub fn mask_email(name: &str) -> String {
    let trimmed = name.trim();
    match trimmed.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !trimmed.contains(char::is_whitespace) =>
        {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        _ => name.to_string(),
    }
}

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

/// Lines grouped under labels.
pub struct Group {
    pub label: String,
    pub lines: Vec<String>,
}

/// Pack groups of lines into fields (≤ 1024 each) and the fields into pages of at most
/// `FIELDS_PER_PAGE` fields and `budget` characters. Always at least one (maybe empty) page.
pub fn pack(groups: &[Group], budget: usize) -> Vec<Vec<FieldSpec>> {
    let mut fields: Vec<FieldSpec> = Vec::new();
    for g in groups {
        let count = g.lines.len();
        let mut value = String::new();
        let mut first = true;
        let name = |first: bool| {
            ellipsis(
                &if first {
                    format!("{} ({count})", g.label)
                } else {
                    format!("{} ({count}, continued)", g.label)
                },
                FIELD_NAME_MAX,
            )
        };
        for line in &g.lines {
            let line = ellipsis(line, LINE_MAX);
            let extra = line.chars().count() + usize::from(!value.is_empty());
            if !value.is_empty() && value.chars().count() + extra > FIELD_VALUE_MAX {
                fields.push(FieldSpec {
                    name: name(first),
                    value: std::mem::take(&mut value),
                });
                first = false;
            }
            if !value.is_empty() {
                value.push('\n');
            }
            value.push_str(&line);
        }
        if !value.is_empty() {
            fields.push(FieldSpec {
                name: name(first),
                value,
            });
        }
    }
    let mut pages: Vec<Vec<FieldSpec>> = vec![Vec::new()];
    let mut used = 0;
    for f in fields {
        let size = f.name.chars().count() + f.value.chars().count();
        let page = pages.last_mut().expect("one page");
        if !page.is_empty() && (page.len() >= FIELDS_PER_PAGE || used + size > budget) {
            pages.push(Vec::new());
            used = 0;
        }
        used += size;
        pages.last_mut().expect("one page").push(f);
    }
    pages
}

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

/// Who started something, for a message: a mention for a Discord user, the schedule's name.
pub fn trigger_label(who: &Trigger) -> String {
    match who.as_str().split_once(':') {
        Some(("discord", id)) if id.parse::<u64>().is_ok() => format!("<@{id}>"),
        Some(("schedule", name)) => format!("schedule **{}**", escape(name)),
        _ => escape(who.as_str()),
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

/// A short, single-embed notice (errors, refusals, "already applied").
pub fn notice(title: &str, text: &str, colour_ok: bool) -> Page {
    Page {
        content: String::new(),
        embeds: vec![EmbedSpec {
            title: ellipsis(title, TITLE_MAX),
            description: ellipsis(text, DESCRIPTION_MAX),
            fields: vec![],
            footer: String::new(),
            colour: if colour_ok { GREEN } else { RED },
        }],
        rows: vec![],
    }
}

/// A read that looked wrong: what changed, and one Accept change button per server (admins
/// only, checked when pressed).
pub fn read_looks_wrong(title: &str, text: &str, wrong: &ReadLooksWrong) -> Page {
    let mut page = notice(title, text, false);
    if wrong.acceptable() {
        page.embeds[0].description = ellipsis(
            &format!("{text} If the change is real, accept it below: that read becomes the new baseline."),
            DESCRIPTION_MAX,
        );
        page.rows = vec![wrong
            .servers
            .iter()
            .take(5)
            .map(|s| {
                ButtonSpec::new(
                    CustomId::new(Action::AcceptChange, &s.server.machine_id.0),
                    &ellipsis(&format!("Accept {} as it is now", s.server.name), 80),
                    Style::Danger,
                    false,
                )
            })
            .collect()];
    }
    page
}

/// A cell a spreadsheet will not evaluate: a leading = + - @, tab or carriage return (OWASP's
/// list for CSV injection) gets a `'` in front.
fn csv_field(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// CSV through the `csv` crate (quoting of commas, quotes, newlines and carriage returns).
fn csv_rows<const N: usize>(header: &str, rows: impl Iterator<Item = [String; N]>) -> String {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to memory only fails on a bug in the writer; the rows are text.
    let _ = out.write_record(header.split(','));
    for row in rows {
        let _ = out.write_record(row.iter().map(|c| csv_field(c)));
    }
    let bytes = out.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// A run's results as CSV: one row per account it had to change.
pub fn run_csv(report: &RunReport) -> String {
    csv_rows(
        "account_id,name,planned,result,reason,libraries,missing,requests",
        report.accounts.iter().map(|a| {
            [
                a.account_id.to_string(),
                a.name.clone(),
                a.planned.clone(),
                a.result.as_str().to_string(),
                a.reason.clone().unwrap_or_default(),
                a.libraries.join("; "),
                a.missing.join("; "),
                a.requests.to_string(),
            ]
        }),
    )
}

/// The plan as CSV: one row per account.
pub fn plan_csv(plan: &Plan) -> String {
    csv_rows(
        "account_id,username,email,title,kind,outcome,source_libraries,add,notes,restrictions,less_restricted",
        plan.users.iter().map(|u| {
            [
                u.account_id.to_string(),
                u.username.clone().unwrap_or_default(),
                u.email.clone().unwrap_or_default(),
                u.title.clone(),
                format!("{:?}", u.kind).to_lowercase(),
                u.outcome.as_str().to_string(),
                u.source_libraries.join("; "),
                u.add.join("; "),
                u.notes.join("; "),
                u.restrictions
                    .as_ref()
                    .map(restrictions::describe)
                    .unwrap_or_default(),
                u.less_restricted.join("; "),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sharesync::model::{AccountId, AccountKind};
    use sharesync::plan::{PlanSummary, ServerSummary, PLAN_SCHEMA};

    pub fn account(i: u64, outcome: Outcome, name: String, add: Vec<String>) -> PlannedAccount {
        PlannedAccount {
            account_id: AccountId(i),
            username: Some(name.clone()),
            email: Some(format!("{name}@example.com")),
            title: name,
            kind: AccountKind::Friend,
            outcome,
            source_libraries: add.clone(),
            add: if outcome.writes() { add } else { vec![] },
            notes: if outcome == Outcome::Skipped {
                vec!["duplicate library".into()]
            } else {
                vec![]
            },
            restrictions: None,
            less_restricted: vec![],
            add_ids: Default::default(),
        }
    }

    pub fn plan_of(
        users: Vec<PlannedAccount>,
        warnings: Vec<String>,
        src: &str,
        dst: &str,
    ) -> Plan {
        Plan {
            schema: PLAN_SCHEMA,
            source: ServerSummary {
                name: src.into(),
                machine_identifier: "s".into(),
            },
            dest: ServerSummary {
                name: dst.into(),
                machine_identifier: "d".into(),
            },
            users,
            warnings,
            summary: PlanSummary::default(),
        }
    }

    fn ctx() -> PlanContext {
        PlanContext {
            plan_id: "0123456789abcdef0123456789abcdef".into(),
            pair: "main".into(),
            status: Some(PlanStatus::Open),
            note: None,
            expiry: Some("expires 12:30 UTC".into()),
        }
    }

    fn names(page: &Page) -> Vec<String> {
        page.embeds[0]
            .fields
            .iter()
            .flat_map(|f| f.value.lines().map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn e_mail_names_are_masked_in_embeds_but_not_in_the_csv() {
        let mut by_mail = account(1, Outcome::Grant, "x".into(), vec!["TV Shows".into()]);
        by_mail.username = None;
        by_mail.title = "alice.smith@example.com".into();
        by_mail.email = Some("alice.smith@example.com".into());
        let plan = plan_of(vec![by_mail], vec![], "a", "b");
        let text = names(&plan_page(&plan, &ctx(), 0)).join("\n");
        // (`escape` puts a zero-width space after the @ so it never mentions anyone.)
        assert!(
            text.contains("a…@") && text.contains("example.com"),
            "{text}"
        );
        assert!(!text.contains("alice.smith"), "{text}");
        assert!(plan_csv(&plan).contains("alice.smith@example.com"));
        assert_eq!(mask_email("bob"), "bob");
        assert_eq!(mask_email("not an@address.com"), "not an@address.com");
    }

    #[test]
    fn small_plan_is_one_page_with_counts_and_buttons() {
        let plan = plan_of(
            vec![
                account(1, Outcome::Grant, "alice".into(), vec!["TV Shows".into()]),
                account(2, Outcome::InSync, "bob".into(), vec![]),
                account(3, Outcome::NewShare, "carol".into(), vec!["Movies".into()]),
            ],
            vec![],
            "noodle",
            "doodoo",
        );
        assert_eq!(plan_page_count(&plan, &ctx()), 1);
        let page = plan_page(&plan, &ctx(), 0);
        page.check_limits().unwrap();
        let d = &page.embeds[0].description;
        assert!(d.contains("**noodle** → **doodoo**"), "{d}");
        assert!(
            d.contains("Grant: 1") && d.contains("New share: 1") && d.contains("In sync: 1"),
            "{d}"
        );
        let ids: Vec<&str> = page
            .rows
            .iter()
            .flatten()
            .map(|b| b.custom_id.as_str())
            .collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(
            ids[0].starts_with("ss:apply:")
                && ids[1].starts_with("ss:cancel:")
                && ids[2].starts_with("ss:download:")
        );
        assert_eq!(names(&page).len(), 3);
    }

    #[test]
    fn less_restricted_accounts_are_marked_and_counted() {
        let mut carol = account(3, Outcome::NewShare, "carol".into(), vec!["Movies".into()]);
        carol.restrictions = Some(sharesync::model::SharingSettings {
            allow_sync: true,
            ..Default::default()
        });
        carol.less_restricted = vec!["allowSync on (off on noodle)".into()];
        let plan = plan_of(
            vec![
                account(1, Outcome::Grant, "alice".into(), vec!["TV".into()]),
                carol,
            ],
            vec![],
            "noodle",
            "doodoo",
        );
        let page = plan_page(&plan, &ctx(), 0);
        let embed = &page.embeds[0];
        assert!(
            embed
                .description
                .contains("🔓 **1** less restricted on doodoo than on noodle"),
            "{}",
            embed.description
        );
        let fields: String = embed.fields.iter().map(|f| f.value.clone()).collect();
        assert!(fields.contains("**carol** 🔓"), "{fields}");
        assert!(!fields.contains("**alice** 🔓"), "{fields}");
        let csv = plan_csv(&plan);
        assert!(csv
            .lines()
            .next()
            .unwrap()
            .ends_with(",restrictions,less_restricted"));
        let row = csv.lines().nth(2).unwrap();
        assert!(
            row.ends_with(",allowSync,allowSync on (off on noodle)"),
            "{row}"
        );
    }

    #[test]
    fn nothing_to_grant_means_no_apply_button() {
        let plan = plan_of(
            vec![account(2, Outcome::InSync, "bob".into(), vec![])],
            vec![],
            "a",
            "b",
        );
        let page = plan_page(&plan, &ctx(), 0);
        assert!(page
            .rows
            .iter()
            .flatten()
            .all(|b| !b.custom_id.starts_with("ss:apply")));
    }

    #[test]
    fn names_cannot_inject_markdown_or_mentions() {
        assert_eq!(escape("**x** @everyone"), "\\*\\*x\\*\\* @\u{200b}everyone");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let plan = plan_of(
            vec![account(
                1,
                Outcome::Grant,
                "=cmd,x".into(),
                vec!["A \"B\"".into()],
            )],
            vec![],
            "a",
            "b",
        );
        let csv = plan_csv(&plan);
        let row = csv.lines().nth(1).unwrap();
        assert!(row.starts_with("1,\"'=cmd,x\","), "{row}");
        assert!(row.contains("\"A \"\"B\"\"\""), "{row}");
    }

    #[test]
    fn csv_defuses_tab_and_carriage_return_and_reads_back_as_written() {
        let names = ["\tcmd", "\rcmd", "a\r\nb", "x\ty", "plain"];
        let plan = plan_of(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| account(i as u64 + 1, Outcome::Grant, n.to_string(), vec![]))
                .collect(),
            vec![],
            "a",
            "b",
        );
        let text = plan_csv(&plan);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let titles: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[3].to_string())
            .collect();
        assert_eq!(titles, ["'\tcmd", "'\rcmd", "a\r\nb", "x\ty", "plain"]);
    }

    fn arb_plan() -> impl Strategy<Value = Plan> {
        let name = prop_oneof![8 => "[a-z]{1,12}", 1 => "\\PC{0,300}", 1 => "[*_@`|>]{0,40}"];
        let lib = prop_oneof![8 => "[A-Za-z ]{1,20}", 1 => "\\PC{0,300}"];
        let acc = (
            prop::sample::select(Outcome::ALL.to_vec()),
            name,
            prop::collection::vec(lib, 0..6),
        );
        (
            prop::collection::vec(acc, 0..10_000),
            prop::collection::vec("\\PC{0,400}", 0..12),
            "\\PC{1,300}",
            "\\PC{1,300}",
            0usize..3,
        )
            .prop_map(|(accs, warnings, src, dst, _)| {
                let users = accs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (o, n, add))| account(i as u64, o, n, add))
                    .collect();
                plan_of(users, warnings, &src, &dst)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        #[test]
        fn every_page_respects_discords_limits_and_every_account_appears_once(plan in arb_plan(), note in proptest::option::of("\\PC{0,3000}")) {
            let mut c = ctx();
            c.note = note;
            let pages = plan_pages(&plan, &c);
            let total = pages.len();
            let mut lines = 0;
            for (p, page) in pages.iter().enumerate() {
                prop_assert!(page.check_limits().is_ok(), "page {p}: {:?}", page.check_limits());
                let json = serde_json::to_value(page.embeds()).unwrap();
                prop_assert!(json.to_string().len() < 200_000);
                lines += names(page).len();
            }
            prop_assert_eq!(lines, plan.users.len());
            let confirm = confirm_page(&plan, &c, total - 1);
            prop_assert!(confirm.check_limits().is_ok(), "{:?}", confirm.check_limits());
        }

        #[test]
        fn run_pages_respect_limits(n in 0usize..5000, detail in "\\PC{0,500}") {
            let plan = plan_of(vec![], vec![], "a", "b");
            let lines: Vec<ResultLine> = (0..n).map(|i| ResultLine { name: format!("user{i}"), ok: i % 7 != 0, detail: detail.clone() }).collect();
            let page = run_page(&plan, "abc", &lines, n, n, true, Some(&detail));
            prop_assert!(page.check_limits().is_ok(), "{:?}", page.check_limits());
        }
    }
}
