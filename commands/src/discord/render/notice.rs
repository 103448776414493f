//! Short single-embed notices, and the refusal of a read that looks wrong.

use sharesync::guard::ReadLooksWrong;

use super::super::ids::{Action, CustomId};
use super::page::{ButtonSpec, EmbedSpec, Page, Style, DESCRIPTION_MAX, GREEN, RED, TITLE_MAX};
use super::text::ellipsis;

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
