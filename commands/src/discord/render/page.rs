//! A message as plain data: embeds and rows of buttons, with Discord's limits, so tests can
//! measure a page before anything is sent (`respond.rs` turns pages into serenity builders).

use super::super::ids::CustomId;

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

pub(super) const GREEN: u32 = 0x2e_cc_71;
pub(super) const BLUE: u32 = 0x34_98_db;
pub(super) const GREY: u32 = 0x95_a5_a6;
pub(super) const RED: u32 = 0xe7_4c_3c;
pub(super) const ORANGE: u32 = 0xe6_7e_22;

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
    pub(super) fn new(id: CustomId, label: &str, style: Style, disabled: bool) -> ButtonSpec {
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
    /// The same page with every button disabled (a finished or refused flow).
    pub fn disabled(mut self) -> Page {
        for b in self.rows.iter_mut().flatten() {
            b.disabled = true;
        }
        self
    }

    /// Every limit Discord sets on a message (content, embeds, fields, buttons, custom ids);
    /// the error names the first one broken.
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
