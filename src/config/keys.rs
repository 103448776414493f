//! What the environment can set: the prefix, the top-level keys and sections a `SHARESYNC_`
//! variable names, and the keys whose values are secrets.

/// The prefix of every sharesync variable.
pub(super) const ENV_PREFIX: &str = "SHARESYNC_";

/// The top-level keys that are not sections: the only ones a `SHARESYNC_<KEY>` variable sets.
pub(super) const TOP_LEVEL_ENV_KEYS: &[&str] = &["data_dir"];
/// The sections a `SHARESYNC_<SECTION>__<KEY>` variable can set.
pub(super) const SECTIONS: &[&str] = &["plex", "limits", "discord"];
/// Keys whose values are secrets: kept as strings from the environment, never shown in errors.
pub(super) const SECRET_KEYS: &[&str] = &[
    "plex.token",
    "plex.password",
    "plex.mfa_code",
    "discord.token",
];

/// The single-word variables: the top-level keys', then the front end's own.
pub(super) fn known_variables(front_end: &[String]) -> String {
    TOP_LEVEL_ENV_KEYS
        .iter()
        .map(|k| format!("{ENV_PREFIX}{}", k.to_uppercase()))
        .chain(front_end.iter().cloned())
        .collect::<Vec<_>>()
        .join(", ")
}
