//! What both API families do alike once their answers are decoded: which resources are owned
//! servers, a server's catalogue from its library list, and both servers' reads as one state.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    Account, AccountId, Library, LibraryId, LibraryKey, MachineId, Server, ServerRef,
    ServerSharing, SharingSettings, SharingState,
};

use super::{validate, PlexError};

/// Whether a resource's `provides` list names `server`.
pub(super) fn provides_server(provides: Option<&str>) -> bool {
    provides
        .unwrap_or("")
        .split(',')
        .any(|p| p.trim().eq_ignore_ascii_case("server"))
}

/// An owned server from a resources entry; `None` for clients, other people's servers and
/// entries without an identifier.
pub(super) fn owned_server(
    owned: bool,
    provides: Option<&str>,
    client_identifier: Option<String>,
    name: Option<String>,
) -> Option<ServerRef> {
    if !(owned && provides_server(provides)) {
        return None;
    }
    let mid = client_identifier.filter(|c| !c.trim().is_empty())?;
    Some(ServerRef {
        name: name.unwrap_or_default(),
        machine_id: MachineId(mid),
    })
}

/// One library as either family lists it in a server's catalogue.
pub(super) struct ListedLibrary {
    pub(super) id: u64,
    pub(super) key: Option<u64>,
    pub(super) title: Option<String>,
    pub(super) kind: Option<String>,
}

/// A server's catalogue: every library must carry its key; an answer without the server's name
/// keeps the name it was asked by.
pub(super) fn catalogue(
    name: Option<String>,
    server: &ServerRef,
    listed: impl ExactSizeIterator<Item = ListedLibrary>,
    endpoint: &str,
) -> Result<Server, PlexError> {
    let mut libraries = Vec::with_capacity(listed.len());
    for l in listed {
        let key = l.key.ok_or_else(|| PlexError::Malformed {
            endpoint: endpoint.to_string(),
            reason: format!("library {} has no key", l.id),
        })?;
        libraries.push(Library {
            id: LibraryId(l.id),
            key: LibraryKey(key),
            title: l.title.unwrap_or_default(),
            kind: l.kind.unwrap_or_default(),
        });
    }
    Ok(Server {
        name: name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| server.name.clone()),
        machine_id: server.machine_id.clone(),
        libraries,
    })
}

/// One server's read: the accounts its shares belong to, and the shares.
pub(super) type ServerRead = (BTreeMap<AccountId, Account>, ServerSharing);

/// Both servers' reads as one state: the accounts seen on either, and each server's shares
/// checked against them.
pub(super) fn sharing_state(
    (mut accounts, source): ServerRead,
    (dst_accounts, dest): ServerRead,
) -> Result<SharingState, PlexError> {
    accounts.extend(dst_accounts);
    validate::server_sharing(&source, &accounts)?;
    validate::server_sharing(&dest, &accounts)?;
    Ok(SharingState {
        accounts,
        source,
        dest,
    })
}

/// A share to create: which libraries an account gets on a server, with which restrictions.
pub(super) struct NewShare<'a> {
    pub(super) server: &'a MachineId,
    pub(super) account: AccountId,
    pub(super) libraries: &'a BTreeSet<LibraryId>,
    pub(super) settings: &'a SharingSettings,
}

/// The library ids a write sends.
pub(super) fn library_ids(libraries: &BTreeSet<LibraryId>) -> Vec<u64> {
    libraries.iter().map(|l| l.0).collect()
}
