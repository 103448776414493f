//! The plex.tv client against the simulated plex.tv, over real HTTP on loopback, in both API
//! families: request counts, global ids, every error shape, retries, family fallback, headers,
//! write bodies and secrets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sharesync::model::*;
use sharesync::plex::{ApiFamily, PlexClient, PlexError};
use sharesync::sandbox::{Fault, FaultKind, FaultTarget, Sandbox, Scenario, World};

#[path = "client/errors.rs"]
mod errors;
#[path = "client/reads.rs"]
mod reads;
mod support;
#[path = "client/writes.rs"]
mod writes;

use support::{client_options as options, server_ref, CLIENT_ID, FAMILIES};

fn client(sb: &Sandbox, family: ApiFamily) -> PlexClient {
    PlexClient::new(options(sb, family)).unwrap()
}

/// A client that gives up at once, so each fault surfaces as its typed error.
fn impatient(sb: &Sandbox, family: ApiFamily) -> PlexClient {
    let mut o = options(sb, family);
    o.read_retries = 0;
    PlexClient::new(o).unwrap()
}

fn pair(sb: &Sandbox) -> (ServerRef, ServerRef) {
    let w = sb.world();
    (server_ref(&w, "noodle"), server_ref(&w, "doodoo"))
}

fn small() -> Scenario {
    Scenario::generated(12, 6, 7)
}

/// Every share the world has on this server (with an account) is in the read, exactly.
fn assert_matches_world(w: &World, state: &SharingState, side: &ServerSharing, family: ApiFamily) {
    let mid = &side.server.machine_id.0;
    let server = w.server(mid).unwrap();
    let want: BTreeSet<(u64, u64, String)> = server
        .libraries
        .iter()
        .map(|l| (l.id, l.key, l.title.clone()))
        .collect();
    let got: BTreeSet<(u64, u64, String)> = side
        .server
        .libraries
        .iter()
        .map(|l| (l.id.0, l.key.0, l.title.clone()))
        .collect();
    assert_eq!(got, want, "{family:?} catalogue of {}", server.name);
    let world_shares: Vec<_> = w
        .shares_on(mid)
        .filter(|s| s.account_id.is_some())
        .collect();
    assert_eq!(
        side.shares.len(),
        world_shares.len(),
        "{family:?} shares on {}",
        server.name
    );
    for ws in world_shares {
        let account = AccountId(ws.account_id.unwrap());
        let share = side
            .shares
            .get(&account)
            .unwrap_or_else(|| panic!("{family:?}: no share for {account} on {}", server.name));
        assert_eq!(share.id, ShareId(ws.id));
        assert_eq!(share.account, account);
        let state_want = if ws.pending {
            ShareState::Pending
        } else {
            ShareState::Accepted
        };
        assert_eq!(share.state, state_want, "{family:?} share {}", ws.id);
        let access_want = if ws.all_libraries {
            Access::All
        } else {
            Access::Libraries(ws.section_ids.iter().map(|i| LibraryId(*i)).collect())
        };
        assert_eq!(share.access, access_want, "{family:?} share {}", ws.id);
        let read = share.settings.as_ref().expect("settings returned");
        assert_eq!(read.allow_sync, ws.settings.allow_sync);
        assert_eq!(read.allow_tuners, ws.settings.allow_tuners);
        if family == ApiFamily::V2 {
            let s = &ws.settings;
            let want = SharingSettings {
                allow_sync: s.allow_sync,
                allow_camera_upload: s.allow_camera_upload,
                allow_channels: s.allow_channels,
                allow_subtitle_admin: s.allow_subtitle_admin,
                allow_tuners: s.allow_tuners,
                filter_movies: s.filter_movies.clone(),
                filter_music: s.filter_music.clone(),
                filter_television: s.filter_television.clone(),
                filter_photos: s.filter_photos.clone(),
                filter_all: s.filter_all.clone(),
            };
            assert_eq!(read, &want, "v2 settings of share {}", ws.id);
        }
        let rec = w.accounts.get(&account.0).unwrap();
        let acct = &state.accounts[&account];
        let kind = if rec.is_managed() {
            AccountKind::Managed
        } else {
            AccountKind::Friend
        };
        assert_eq!(acct.kind, kind, "{family:?} kind of {account}");
        assert_eq!(acct.username, rec.username);
        assert_eq!(acct.title, rec.title);
    }
}

fn assert_state_matches_world(sb: &Sandbox, state: &SharingState, family: ApiFamily) {
    let w = sb.world();
    assert_matches_world(&w, state, &state.source, family);
    assert_matches_world(&w, state, &state.dest, family);
}
