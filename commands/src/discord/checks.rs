//! Authorization, checked server-side on every command, autocomplete and button press: only
//! members with a configured admin role, in a configured server (and allowed channel), act.
//! Discord's `default_member_permissions` is only a first layer: anyone who can see a message can
//! press its buttons, so the presser's roles are read from the interaction itself.

use poise::serenity_prelude as serenity;

/// Why a person may not do something; the text is shown to them (ephemerally).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Only members with an admin role of this bot can do that.")]
    NotAdmin,
    #[error("sharesync commands only work in a server, not in direct messages.")]
    NotInGuild,
    #[error("sharesync commands are not enabled in this channel.")]
    ChannelNotAllowed,
}

/// Who may act, from config.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub guild_ids: Vec<serenity::GuildId>,
    pub admin_role_ids: Vec<serenity::RoleId>,
    /// Empty: any channel.
    pub allowed_channel_ids: Vec<serenity::ChannelId>,
}

impl Policy {
    /// The pure decision: `roles` is `None` outside a guild.
    pub fn check(
        &self,
        guild: Option<serenity::GuildId>,
        roles: Option<&[serenity::RoleId]>,
        channel: serenity::ChannelId,
    ) -> Result<(), Refusal> {
        let (Some(guild), Some(roles)) = (guild, roles) else {
            return Err(Refusal::NotInGuild);
        };
        if !self.guild_ids.is_empty() && !self.guild_ids.contains(&guild) {
            return Err(Refusal::NotInGuild);
        }
        if !self.allowed_channel_ids.is_empty() && !self.allowed_channel_ids.contains(&channel) {
            return Err(Refusal::ChannelNotAllowed);
        }
        if roles.iter().any(|r| self.admin_role_ids.contains(r)) {
            Ok(())
        } else {
            Err(Refusal::NotAdmin)
        }
    }

    /// A slash command or autocomplete (roles come with the interaction, no HTTP call).
    pub fn check_command(&self, i: &serenity::CommandInteraction) -> Result<(), Refusal> {
        self.check(
            i.guild_id,
            i.member.as_ref().map(|m| m.roles.as_slice()),
            i.channel_id,
        )
    }

    /// A button press.
    pub fn check_component(&self, i: &serenity::ComponentInteraction) -> Result<(), Refusal> {
        self.check(
            i.guild_id,
            i.member.as_ref().map(|m| m.roles.as_slice()),
            i.channel_id,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(channels: Vec<u64>) -> Policy {
        Policy {
            guild_ids: vec![serenity::GuildId::new(10)],
            admin_role_ids: vec![serenity::RoleId::new(1), serenity::RoleId::new(2)],
            allowed_channel_ids: channels.into_iter().map(serenity::ChannelId::new).collect(),
        }
    }

    #[test]
    fn admin_role_is_required() {
        let p = policy(vec![]);
        let g = Some(serenity::GuildId::new(10));
        let c = serenity::ChannelId::new(5);
        assert_eq!(p.check(g, Some(&[serenity::RoleId::new(2)]), c), Ok(()));
        assert_eq!(
            p.check(g, Some(&[serenity::RoleId::new(3)]), c),
            Err(Refusal::NotAdmin)
        );
        assert_eq!(p.check(g, Some(&[]), c), Err(Refusal::NotAdmin));
        assert_eq!(p.check(None, None, c), Err(Refusal::NotInGuild));
        assert_eq!(
            p.check(
                Some(serenity::GuildId::new(11)),
                Some(&[serenity::RoleId::new(1)]),
                c
            ),
            Err(Refusal::NotInGuild)
        );
    }

    #[test]
    fn allowed_channels_when_configured() {
        let p = policy(vec![5]);
        let g = Some(serenity::GuildId::new(10));
        let admin = [serenity::RoleId::new(1)];
        assert_eq!(
            p.check(g, Some(&admin), serenity::ChannelId::new(5)),
            Ok(())
        );
        assert_eq!(
            p.check(g, Some(&admin), serenity::ChannelId::new(6)),
            Err(Refusal::ChannelNotAllowed)
        );
    }

    #[test]
    fn no_admin_roles_means_nobody() {
        let p = Policy {
            admin_role_ids: vec![],
            ..policy(vec![])
        };
        assert_eq!(
            p.check(
                Some(serenity::GuildId::new(10)),
                Some(&[serenity::RoleId::new(1)]),
                serenity::ChannelId::new(1)
            ),
            Err(Refusal::NotAdmin)
        );
    }
}
