//! Human output for the terminal, in the seed script's shape.

use std::fmt::Write;

use sharesync::model::Server;
use sharesync::plan::{Outcome, Plan};
use sharesync::restrictions;

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The plan in the seed script's shape; `applying` when `--apply` follows it.
pub fn plan(plan: &Plan, applying: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Source server: {} ({})",
        plan.source.name, plan.source.machine_identifier
    );
    let _ = writeln!(
        out,
        "Destination server: {} ({})",
        plan.dest.name, plan.dest.machine_identifier
    );
    let mode = if applying {
        "APPLY (only adds access; the plan is re-checked against fresh state first)"
    } else {
        "DRY RUN (no changes will be made)"
    };
    let _ = writeln!(out, "Mode: {mode}");
    for w in &plan.warnings {
        let _ = writeln!(out, "Warning: {w}");
    }
    let _ = writeln!(out, "\nScanning users and planning updates:\n");
    let dest = &plan.dest.name;
    for u in &plan.users {
        let name = u.display_name();
        let _ = writeln!(
            out,
            "  User '{name}': source has {}",
            list(&u.source_libraries)
        );
        let line = match u.outcome {
            Outcome::Grant => format!("Will add on dest for user '{name}': {}", list(&u.add)),
            Outcome::NewShare => format!("Will share {dest} with user '{name}': {}", list(&u.add)),
            Outcome::Pending => format!(
                "Will add to the pending invite on dest for user '{name}': {}",
                list(&u.add)
            ),
            Outcome::InSync => format!("Already has every matching library on {dest}"),
            Outcome::DestAll => format!("Already has all libraries on {dest}"),
            Outcome::NoMatch => format!("None of these libraries exist on {dest}"),
            Outcome::Skipped => "Skipped".to_string(),
        };
        let _ = writeln!(out, "    {line}");
        if let Some(r) = &u.restrictions {
            let _ = writeln!(
                out,
                "      restrictions of the new share: {}",
                restrictions::describe(r)
            );
        }
        for looser in &u.less_restricted {
            let _ = writeln!(
                out,
                "      less restricted on {dest} than on {}: {looser}",
                plan.source.name
            );
        }
        for note in &u.notes {
            let _ = writeln!(out, "      note: {note}");
        }
    }
    if plan.users.is_empty() {
        let _ = writeln!(out, "  No user has access on {}.", plan.source.name);
    }
    let _ = writeln!(out, "\nSummary:");
    let _ = writeln!(out, "  Users updated: {}", plan.summary.users_to_update);
    let _ = writeln!(
        out,
        "  Library grants added on destination: {}",
        plan.summary.grants_to_add
    );
    let looser = plan.less_restricted();
    if looser > 0 {
        let _ = writeln!(
            out,
            "  Less restricted on {dest} than on {} (never changed by sharesync): {looser}",
            plan.source.name
        );
    }
    let counts: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| (o, plan.count(*o)))
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{} {n}", o.as_str()))
        .collect();
    if !counts.is_empty() {
        let _ = writeln!(out, "  Accounts by outcome: {}", counts.join(", "));
    }
    if !applying {
        let _ = writeln!(
            out,
            "  No changes were applied because this was a dry run. Use --apply to push updates."
        );
    }
    out
}

pub fn servers(servers: &[Server]) -> String {
    let mut out = String::new();
    for s in servers {
        let _ = writeln!(out, "{} ({})", s.name, s.machine_id);
        let _ = writeln!(
            out,
            "  {:<30} {:<8} {:>12} {:>5}",
            "library", "type", "id", "key"
        );
        for l in &s.libraries {
            let _ = writeln!(
                out,
                "  {:<30} {:<8} {:>12} {:>5}",
                l.title, l.kind, l.id, l.key
            );
        }
    }
    if servers.is_empty() {
        out.push_str("This account owns no Plex servers.\n");
    }
    out
}
