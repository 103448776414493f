use sharesync::plan::{Outcome, Plan, PlannedAccount};
use sharesync::store::PlanStatus;

use super::csv::plan_csv;
use super::page::Page;
use super::plan::{confirm_page, plan_page, plan_page_count, plan_pages, PlanContext};
use super::run::{run_page, ResultLine};
use super::text::{escape, mask_email};
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

pub fn plan_of(users: Vec<PlannedAccount>, warnings: Vec<String>, src: &str, dst: &str) -> Plan {
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
