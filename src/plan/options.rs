//! What the planner may do, and why it can refuse.

use std::collections::BTreeMap;

/// What the planner may do, from config and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Create a destination share for an account that has none.
    pub new_share: bool,
    /// A new share carries its source share's restrictions (filters and permissions); off:
    /// plex.tv's defaults, as the seed script does.
    pub copy_restrictions: bool,
    /// Refuse to match libraries whose types differ (movie vs show).
    pub require_same_type: bool,
    /// Source title → destination title, for libraries named differently on each side.
    pub aliases: BTreeMap<String, String>,
    /// Titles (on either side) never synced.
    pub exclude: Vec<String>,
    /// Only these accounts: username, email, title or account id, case-insensitive. Empty: all.
    pub only_accounts: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            new_share: true,
            copy_restrictions: true,
            require_same_type: false,
            aliases: BTreeMap::new(),
            exclude: Vec::new(),
            only_accounts: Vec::new(),
        }
    }
}

/// Why the planner refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `only_accounts` names accounts that have no access on the source.
    #[error("no account with access on {server} matches {}; use a username, email, title or account id", quoted(.filters))]
    UnknownAccounts {
        /// The source server.
        server: String,
        /// The names that matched no account.
        filters: Vec<String>,
    },
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
