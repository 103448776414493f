//! Plans and run results as CSV downloads.

use sharesync::apply::RunReport;
use sharesync::plan::Plan;
use sharesync::restrictions;

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
