//! Pages → Discord: a command's reply, a button's response (a new message or an update of the
//! message the button is on), an edit of a channel message, a post. The only place the bot's
//! pages meet serenity's builders.

use poise::serenity_prelude as serenity;

use super::render::{ellipsis, EmbedSpec, Page, Style};

impl EmbedSpec {
    /// The embed as serenity builds it.
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

impl Page {
    /// The page's embeds as serenity builds them.
    pub fn embeds(&self) -> Vec<serenity::CreateEmbed> {
        self.embeds.iter().map(EmbedSpec::to_embed).collect()
    }

    /// The page's rows of buttons as serenity builds them (empty rows left out).
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
}

/// A slash command's reply showing `page`.
pub fn reply(page: &Page) -> poise::CreateReply {
    let mut r = poise::CreateReply::default().components(page.components());
    if !page.content.is_empty() {
        r = r.content(page.content.clone());
    }
    for e in page.embeds() {
        r = r.embed(e);
    }
    r
}

/// A short text only the presser sees (at most 1,900 characters, mentions inert).
pub async fn ephemeral(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    text: &str,
) -> Result<(), serenity::Error> {
    press
        .create_response(
            &ctx.http,
            serenity::CreateInteractionResponse::Message(
                serenity::CreateInteractionResponseMessage::new()
                    .content(ellipsis(text, 1900))
                    .ephemeral(true)
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await
}

/// Replace the message the button is on (interaction response type 7).
pub async fn update(
    ctx: &serenity::Context,
    press: &serenity::ComponentInteraction,
    page: &Page,
) -> Result<(), serenity::Error> {
    let mut msg = serenity::CreateInteractionResponseMessage::new()
        .embeds(page.embeds())
        .components(page.components());
    if !page.content.is_empty() {
        msg = msg.content(page.content.clone());
    }
    press
        .create_response(
            &ctx.http,
            serenity::CreateInteractionResponse::UpdateMessage(msg),
        )
        .await
}

/// Edit a channel message (works past the interaction token's 15 minutes).
pub async fn edit_message(
    http: &serenity::Http,
    channel: serenity::ChannelId,
    message: serenity::MessageId,
    page: &Page,
) -> Result<(), serenity::Error> {
    channel
        .edit_message(
            http,
            message,
            serenity::EditMessage::new()
                .embeds(page.embeds())
                .components(page.components()),
        )
        .await?;
    Ok(())
}

/// Post `page` in `channel`, with what `message` already carries (attachments).
pub async fn post(
    http: &serenity::Http,
    channel: serenity::ChannelId,
    mut message: serenity::CreateMessage,
    page: &Page,
) -> Result<(), serenity::Error> {
    message = message.embeds(page.embeds()).components(page.components());
    if !page.content.is_empty() {
        message = message.content(page.content.clone());
    }
    channel.send_message(http, message).await?;
    Ok(())
}
