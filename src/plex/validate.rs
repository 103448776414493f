//! What a read must satisfy before the planner may see it, and the small builders both
//! families share when turning wire records into domain types.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    Account, AccountId, AccountKind, Library, ServerSharing, Share, ShareState, SharingSettings,
};

use super::PlexError;

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A share's settings when every part was on the wire (a filter's explicit null is
/// `Some(None)`), else `None`: a missing part read as its default would send the default back
/// on the next update, or copy a new share without the filter. Order: sync, camera upload,
/// channels, subtitle admin; movies, music, television, photos, all.
pub fn known_settings(
    [allow_sync, allow_camera_upload, allow_channels, allow_subtitle_admin]: [Option<bool>; 4],
    allow_tuners: Option<u64>,
    [filter_movies, filter_music, filter_television, filter_photos, filter_all]: [Option<Option<String>>;
        5],
) -> Option<SharingSettings> {
    Some(SharingSettings {
        allow_sync: allow_sync?,
        allow_camera_upload: allow_camera_upload?,
        allow_channels: allow_channels?,
        allow_subtitle_admin: allow_subtitle_admin?,
        allow_tuners: allow_tuners?.min(u8::MAX as u64) as u8,
        filter_movies: filter_movies?,
        filter_music: filter_music?,
        filter_television: filter_television?,
        filter_photos: filter_photos?,
        filter_all: filter_all?,
    })
}

/// An account from whatever identity fields a wire record has. Managed users are the home or
/// restricted ones without a username and email.
pub fn account(
    id: u64,
    username: Option<String>,
    email: Option<String>,
    title: Option<String>,
    home: bool,
    restricted: bool,
) -> Account {
    let username = non_empty(username);
    let email = non_empty(email);
    let title = non_empty(title)
        .or_else(|| username.clone())
        .or_else(|| email.clone())
        .unwrap_or_default();
    let kind = if (home || restricted) && username.is_none() && email.is_none() {
        AccountKind::Managed
    } else {
        AccountKind::Friend
    };
    Account {
        id: AccountId(id),
        username,
        email,
        title,
        kind,
    }
}

/// Insert a share, keeping an accepted one over a pending one for the same account.
pub fn insert_share(shares: &mut BTreeMap<AccountId, Share>, share: Share, server: &str) {
    match shares.get(&share.account) {
        None => {
            shares.insert(share.account, share);
        }
        Some(existing) => {
            tracing::warn!(
                account = %share.account,
                server,
                kept = %existing.id,
                dropped = %share.id,
                "plex.tv lists two shares for one account on one server"
            );
            if existing.state == ShareState::Pending && share.state == ShareState::Accepted {
                shares.insert(share.account, share);
            }
        }
    }
}

/// A catalogue must not list one global id twice.
pub fn catalogue(server: &str, libraries: &[Library]) -> Result<(), PlexError> {
    let mut seen = BTreeSet::new();
    for l in libraries {
        if !seen.insert(l.id) {
            return Err(PlexError::Incomplete(format!(
                "the catalogue of {server} lists library id {} twice",
                l.id
            )));
        }
    }
    Ok(())
}

/// A catalogue that is empty while the server has shares, or a share naming a library id the
/// catalogue lacks, cannot be the whole truth: plex.tv has answered both ways when cut short.
pub fn server_sharing(
    sharing: &ServerSharing,
    accounts: &BTreeMap<AccountId, Account>,
) -> Result<(), PlexError> {
    let server = &sharing.server;
    catalogue(&server.name, &server.libraries)?;
    if server.libraries.is_empty() && !sharing.shares.is_empty() {
        return Err(PlexError::Incomplete(format!(
            "plex.tv returned no libraries for {} although it has {} share(s)",
            server.name,
            sharing.shares.len()
        )));
    }
    let known: BTreeSet<_> = server.libraries.iter().map(|l| l.id).collect();
    for (account, share) in &sharing.shares {
        if *account != share.account {
            return Err(PlexError::Incomplete(format!(
                "share {} is filed under account {account} but belongs to {}",
                share.id, share.account
            )));
        }
        if !accounts.contains_key(account) {
            return Err(PlexError::Incomplete(format!(
                "share {} on {} belongs to account {account}, which plex.tv did not describe",
                share.id, server.name
            )));
        }
        if let crate::model::Access::Libraries(ids) = &share.access {
            if let Some(missing) = ids.iter().find(|id| !known.contains(id)) {
                return Err(PlexError::Incomplete(format!(
                    "share {} on {} names library id {missing}, which is not in the server's catalogue",
                    share.id, server.name
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Access, LibraryId, LibraryKey, MachineId, Server, ShareId, SharingSettings,
    };

    fn lib(id: u64, key: u64) -> Library {
        Library {
            id: LibraryId(id),
            key: LibraryKey(key),
            title: format!("L{key}"),
            kind: "movie".into(),
        }
    }

    fn sharing(
        libs: Vec<Library>,
        access: Access,
    ) -> (ServerSharing, BTreeMap<AccountId, Account>) {
        let acct = account(7, Some("u".into()), None, None, false, false);
        let mut shares = BTreeMap::new();
        shares.insert(
            AccountId(7),
            Share {
                id: ShareId(70),
                account: AccountId(7),
                state: ShareState::Accepted,
                access,
                settings: Some(SharingSettings::default()),
            },
        );
        let mut accounts = BTreeMap::new();
        accounts.insert(AccountId(7), acct);
        (
            ServerSharing {
                server: Server {
                    name: "s".into(),
                    machine_id: MachineId("m".into()),
                    libraries: libs,
                },
                shares,
            },
            accounts,
        )
    }

    #[test]
    fn kinds() {
        assert_eq!(
            account(1, None, None, Some("Kid".into()), true, true).kind,
            AccountKind::Managed
        );
        assert_eq!(
            account(1, Some("".into()), Some(" ".into()), None, true, false).kind,
            AccountKind::Managed
        );
        assert_eq!(
            account(1, Some("bob".into()), None, None, true, true).kind,
            AccountKind::Friend
        );
        assert_eq!(
            account(1, None, None, None, false, false).kind,
            AccountKind::Friend
        );
        assert_eq!(
            account(1, Some("bob".into()), None, None, false, false).title,
            "bob"
        );
    }

    #[test]
    fn empty_catalogue_with_shares_is_incomplete() {
        let (s, a) = sharing(vec![], Access::All);
        assert!(matches!(
            server_sharing(&s, &a),
            Err(PlexError::Incomplete(_))
        ));
    }

    #[test]
    fn unknown_library_is_incomplete_but_empty_set_is_fine() {
        let (s, a) = sharing(
            vec![lib(1001, 1)],
            Access::Libraries([LibraryId(1002)].into()),
        );
        assert!(matches!(
            server_sharing(&s, &a),
            Err(PlexError::Incomplete(_))
        ));
        let (s, a) = sharing(vec![lib(1001, 1)], Access::Libraries(BTreeSet::new()));
        assert!(server_sharing(&s, &a).is_ok());
        let (s, a) = sharing(vec![lib(1001, 1), lib(1001, 2)], Access::All);
        assert!(matches!(
            server_sharing(&s, &a),
            Err(PlexError::Incomplete(_))
        ));
    }
}
