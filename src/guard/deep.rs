//! `doctor --deep`: read the same servers through both plex.tv API families and report every
//! disagreement, so a plex.tv change shows up in a check before it shows up in a write. plex.tv
//! has changed one family under every tool in this space (fields dropped, lists cut, 410s); two
//! families that disagree mean one of them is wrong, and sharesync may be reading that one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::{Access, Account, AccountId, ServerRef, ServerSharing, ShareState};
use crate::plex::{ApiFamily, PlexClient, PlexError};
use crate::store::{Store, StoreError, Trigger};

/// One thing the two families see differently on one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disagreement {
    /// A share only one family lists.
    OnlyIn {
        /// The family that lists it.
        family: ApiFamily,
        /// The account.
        account: String,
    },
    /// Both list the share, with different libraries (titles).
    Libraries {
        /// The account.
        account: String,
        /// The titles v2 lists.
        v2: BTreeSet<String>,
        /// The titles legacy lists.
        legacy: BTreeSet<String>,
    },
    /// One family says all libraries, the other an explicit list.
    AllVersusList {
        /// The account.
        account: String,
        /// The family that says all.
        all_in: ApiFamily,
        /// The other family's list.
        list: BTreeSet<String>,
    },
    /// One family says pending, the other accepted.
    Pending {
        /// The account.
        account: String,
        /// The family that says pending.
        pending_in: ApiFamily,
    },
    /// The catalogues differ (library titles only one family lists).
    Catalogue {
        /// Titles only v2 lists.
        only_v2: BTreeSet<String>,
        /// Titles only legacy lists.
        only_legacy: BTreeSet<String>,
    },
}

fn titles(set: &BTreeSet<String>) -> String {
    let list: Vec<&str> = set.iter().map(String::as_str).collect();
    format!("[{}]", list.join(", "))
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Disagreement::OnlyIn { family, account } => write!(
                f,
                "{account} has a share through {family} only ({} does not list it)",
                family.other()
            ),
            Disagreement::Libraries {
                account,
                v2,
                legacy,
            } => write!(
                f,
                "{account} sees {} through v2 but {} through legacy",
                titles(v2),
                titles(legacy)
            ),
            Disagreement::AllVersusList {
                account,
                all_in,
                list,
            } => write!(
                f,
                "{account} has all libraries through {all_in} but a list through {}: {}",
                all_in.other(),
                titles(list)
            ),
            Disagreement::Pending {
                account,
                pending_in,
            } => write!(
                f,
                "{account}'s share is pending through {pending_in} but accepted through {}",
                pending_in.other()
            ),
            Disagreement::Catalogue {
                only_v2,
                only_legacy,
            } => write!(
                f,
                "the catalogues differ: only v2 lists {}, only legacy lists {}",
                titles(only_v2),
                titles(only_legacy)
            ),
        }
    }
}

/// One family's read of one server.
pub struct FamilyRead<'a> {
    /// Who the shares belong to.
    pub accounts: &'a BTreeMap<AccountId, Account>,
    /// The server's catalogue and shares.
    pub sharing: &'a ServerSharing,
}

/// Every disagreement between the v2 and legacy reads of one server. Pure.
pub fn compare(v2: &FamilyRead<'_>, legacy: &FamilyRead<'_>) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let catalogue = |r: &FamilyRead<'_>| -> BTreeSet<String> {
        r.sharing
            .server
            .libraries
            .iter()
            .map(|l| l.title.clone())
            .collect()
    };
    let (cat_v2, cat_legacy) = (catalogue(v2), catalogue(legacy));
    if cat_v2 != cat_legacy {
        out.push(Disagreement::Catalogue {
            only_v2: cat_v2.difference(&cat_legacy).cloned().collect(),
            only_legacy: cat_legacy.difference(&cat_v2).cloned().collect(),
        });
    }
    let name = |id: &AccountId| {
        v2.accounts
            .get(id)
            .or_else(|| legacy.accounts.get(id))
            .map(Account::display_name)
            .unwrap_or_else(|| format!("account {id}"))
    };
    let list_titles = |r: &FamilyRead<'_>, access: &Access| -> BTreeSet<String> {
        r.sharing
            .server
            .libraries
            .iter()
            .filter(|l| matches!(access, Access::Libraries(ids) if ids.contains(&l.id)))
            .map(|l| l.title.clone())
            .collect()
    };
    let ids: BTreeSet<&AccountId> = v2
        .sharing
        .shares
        .keys()
        .chain(legacy.sharing.shares.keys())
        .collect();
    for id in ids {
        let account = name(id);
        let (a, b) = match (v2.sharing.shares.get(id), legacy.sharing.shares.get(id)) {
            (Some(a), Some(b)) => (a, b),
            (only_v2, _) => {
                let family = if only_v2.is_some() {
                    ApiFamily::V2
                } else {
                    ApiFamily::Legacy
                };
                out.push(Disagreement::OnlyIn { family, account });
                continue;
            }
        };
        match (&a.access, &b.access) {
            (Access::All, Access::All) => {}
            (Access::All, list) => out.push(Disagreement::AllVersusList {
                account: account.clone(),
                all_in: ApiFamily::V2,
                list: list_titles(legacy, list),
            }),
            (list, Access::All) => out.push(Disagreement::AllVersusList {
                account: account.clone(),
                all_in: ApiFamily::Legacy,
                list: list_titles(v2, list),
            }),
            (x, y) => {
                let (tv2, tlegacy) = (list_titles(v2, x), list_titles(legacy, y));
                if tv2 != tlegacy {
                    out.push(Disagreement::Libraries {
                        account: account.clone(),
                        v2: tv2,
                        legacy: tlegacy,
                    });
                }
            }
        }
        if a.state != b.state {
            out.push(Disagreement::Pending {
                account,
                pending_in: if a.state == ShareState::Pending {
                    ApiFamily::V2
                } else {
                    ApiFamily::Legacy
                },
            });
        }
    }
    out
}

/// The cross-check of some servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeepCheck {
    /// Per server checked, its disagreements (empty: the families agree on it).
    pub servers: Vec<(ServerRef, Vec<Disagreement>)>,
}

impl DeepCheck {
    /// How many disagreements were found.
    pub fn disagreements(&self) -> usize {
        self.servers.iter().map(|(_, d)| d.len()).sum()
    }

    /// One line per disagreement, "server: what".
    pub fn lines(&self) -> Vec<String> {
        self.servers
            .iter()
            .flat_map(|(s, ds)| ds.iter().map(move |d| format!("{}: {d}", s.name)))
            .collect()
    }

    /// One line for the record and `/sync-status`.
    pub fn summary(&self) -> String {
        let names: Vec<&str> = self.servers.iter().map(|(s, _)| s.name.as_str()).collect();
        match self.disagreements() {
            0 => format!("v2 and legacy agree on {}", names.join(", ")),
            n => {
                let lines = self.lines();
                let first: Vec<&str> = lines.iter().take(3).map(String::as_str).collect();
                format!(
                    "{n} disagreement{} between v2 and legacy: {}{}",
                    if n == 1 { "" } else { "s" },
                    first.join("; "),
                    if n > 3 { "; …" } else { "" }
                )
            }
        }
    }
}

/// Why a deep check could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DeepCheckError {
    /// A family's read failed.
    #[error("could not read {server} through {family}: {error}")]
    Read {
        /// The server.
        server: String,
        /// The family.
        family: ApiFamily,
        /// What failed.
        #[source]
        error: PlexError,
    },
    /// The record failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeepCheckError {
    /// plex.tv refused the token.
    pub fn is_token_rejected(&self) -> bool {
        matches!(
            self,
            DeepCheckError::Read {
                error: PlexError::BadToken,
                ..
            }
        )
    }
}

/// Read each server through both families, compare, and record the result (who ran it, when).
pub async fn deep_check(
    client: &PlexClient,
    store: &Store,
    servers: &[ServerRef],
    by: &Trigger,
) -> Result<DeepCheck, DeepCheckError> {
    let mut checked = Vec::new();
    for server in servers {
        let read = |family| async move {
            client
                .read_server_sharing_in(family, server)
                .await
                .map_err(|error| DeepCheckError::Read {
                    server: server.name.clone(),
                    family,
                    error,
                })
        };
        let (accounts_v2, sharing_v2) = read(ApiFamily::V2).await?;
        let (accounts_legacy, sharing_legacy) = read(ApiFamily::Legacy).await?;
        let disagreements = compare(
            &FamilyRead {
                accounts: &accounts_v2,
                sharing: &sharing_v2,
            },
            &FamilyRead {
                accounts: &accounts_legacy,
                sharing: &sharing_legacy,
            },
        );
        checked.push((server.clone(), disagreements));
    }
    let check = DeepCheck { servers: checked };
    store.record_deep_check(by, check.disagreements(), &check.summary())?;
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountKind, Library, LibraryId, LibraryKey, MachineId, Server, Share};
    use crate::model::{ShareId, SharingSettings};

    fn server(titles: &[&str]) -> Server {
        Server {
            name: "doodoo".into(),
            machine_id: MachineId("m".into()),
            libraries: titles
                .iter()
                .enumerate()
                .map(|(i, t)| Library {
                    id: LibraryId(100 + i as u64),
                    key: LibraryKey(i as u64 + 1),
                    title: t.to_string(),
                    kind: "movie".into(),
                })
                .collect(),
        }
    }

    fn sharing(titles: &[&str], shares: &[(u64, Access, ShareState)]) -> ServerSharing {
        ServerSharing {
            server: server(titles),
            shares: shares
                .iter()
                .map(|(id, access, state)| {
                    let share = Share {
                        id: ShareId(*id),
                        account: AccountId(*id),
                        state: *state,
                        access: access.clone(),
                        settings: Some(SharingSettings::default()),
                    };
                    (AccountId(*id), share)
                })
                .collect(),
        }
    }

    fn accounts() -> BTreeMap<AccountId, Account> {
        ["alice", "bob", "carol"]
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let id = AccountId(i as u64 + 1);
                let account = Account {
                    id,
                    username: Some(n.to_string()),
                    email: None,
                    title: n.to_string(),
                    kind: AccountKind::Friend,
                };
                (id, account)
            })
            .collect()
    }

    fn libs(ids: &[u64]) -> Access {
        Access::Libraries(ids.iter().map(|i| LibraryId(*i)).collect())
    }

    #[test]
    fn the_same_state_through_both_families_agrees() {
        use ShareState::*;
        let s = sharing(
            &["Movies", "TV"],
            &[(1, libs(&[100]), Accepted), (2, Access::All, Pending)],
        );
        let a = accounts();
        let read = FamilyRead {
            accounts: &a,
            sharing: &s,
        };
        assert!(compare(&read, &read).is_empty());
    }

    #[test]
    fn every_kind_of_disagreement_is_named() {
        use ShareState::*;
        let a = accounts();
        let v2 = sharing(
            &["Movies", "TV", "Music"],
            &[
                (1, libs(&[100, 101]), Accepted),
                (2, Access::All, Pending),
                (3, libs(&[100]), Accepted),
            ],
        );
        let legacy = sharing(
            &["Movies", "TV"],
            &[(1, libs(&[100]), Accepted), (2, libs(&[101]), Accepted)],
        );
        let found: Vec<String> = compare(
            &FamilyRead {
                accounts: &a,
                sharing: &v2,
            },
            &FamilyRead {
                accounts: &a,
                sharing: &legacy,
            },
        )
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            found,
            [
                "the catalogues differ: only v2 lists [Music], only legacy lists []",
                "alice sees [Movies, TV] through v2 but [Movies] through legacy",
                "bob has all libraries through v2 but a list through legacy: [TV]",
                "bob's share is pending through v2 but accepted through legacy",
                "carol has a share through v2 only (legacy does not list it)",
            ]
        );
    }
}
