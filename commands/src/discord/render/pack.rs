//! Packing lines into embed fields and fields into pages within Discord's limits.

use super::page::{FieldSpec, FIELD_NAME_MAX, FIELD_VALUE_MAX};
use super::text::ellipsis;

/// What a page may use of the 6,000 characters, leaving a margin.
pub(super) const PAGE_BUDGET: usize = 5600;
/// Fields per page: Discord allows 25, a dozen reads better (robbb does the same).
pub(super) const FIELDS_PER_PAGE: usize = 12;
/// One account's line.
pub(super) const LINE_MAX: usize = 200;
/// Room kept for the footer when packing fields.
pub(super) const FOOTER_RESERVE: usize = 200;
pub(super) const DESCRIPTION_BUDGET: usize = 1800;

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
