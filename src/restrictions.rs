//! Restrictions are access too: how a share's filters and permissions
//! compare with another's, and how to say so.
//!
//! Filter strings are plex.tv's: clauses joined by `|`, each
//! `key=v1%2Cv2` (only these values) or `key!=v1%2Cv2` (never these values), keys
//! `contentRating` and `label`. Every clause restricts, so a filter is at least as strict as
//! another when it has, for each of the other's clauses, a clause on the same key and sense
//! that allows no more: an allow-list with no extra values, an exclusion with no fewer.
//! Anything that does not parse counts as looser unless it is byte-for-byte the same: a
//! warning too many is better than a child's filter dropped in silence.

use std::collections::BTreeSet;

use crate::model::SharingSettings;

#[derive(Debug, PartialEq, Eq)]
struct Clause {
    key: String,
    negated: bool,
    values: BTreeSet<String>,
}

fn clauses(filter: &str) -> Option<Vec<Clause>> {
    filter
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            let (key, values) = c.split_once('=')?;
            let (key, negated) = match key.strip_suffix('!') {
                Some(k) => (k, true),
                None => (key, false),
            };
            let key = key.trim();
            if key.is_empty() {
                return None;
            }
            let values = values
                .replace("%2C", ",")
                .replace("%2c", ",")
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            Some(Clause {
                key: key.to_string(),
                negated,
                values,
            })
        })
        .collect()
}

fn covers(dest: &[Clause], source: &Clause) -> bool {
    dest.iter().any(|d| {
        d.key == source.key
            && d.negated == source.negated
            && if source.negated {
                d.values.is_superset(&source.values)
            } else {
                d.values.is_subset(&source.values)
            }
    })
}

/// No filter: plex.tv writes both `null` and `""` for it.
fn text(f: &Option<String>) -> &str {
    f.as_deref().map(str::trim).unwrap_or("")
}

/// Whether a `dest` filter lets through something `source` keeps out.
fn filter_looser(source: &Option<String>, dest: &Option<String>) -> bool {
    let (s, d) = (text(source), text(dest));
    if s == d || s.is_empty() {
        return false;
    }
    match (clauses(s), clauses(d)) {
        (Some(sc), Some(mut dc)) => {
            // A destination clause with no values (`contentRating=`) is not known to restrict
            // anything; as an empty allow-list it would otherwise cover every source clause.
            dc.retain(|c| !c.values.is_empty());
            !sc.iter().all(|c| covers(&dc, c))
        }
        _ => true,
    }
}

/// The filters by plex.tv's name.
fn filters(s: &SharingSettings) -> [(&'static str, &Option<String>); 5] {
    [
        ("filterMovies", &s.filter_movies),
        ("filterTelevision", &s.filter_television),
        ("filterMusic", &s.filter_music),
        ("filterPhotos", &s.filter_photos),
        ("filterAll", &s.filter_all),
    ]
}

/// The on/off permissions by plex.tv's name.
fn permissions(s: &SharingSettings) -> [(&'static str, bool); 4] {
    [
        ("allowSync", s.allow_sync),
        ("allowCameraUpload", s.allow_camera_upload),
        ("allowChannels", s.allow_channels),
        ("allowSubtitleAdmin", s.allow_subtitle_admin),
    ]
}

/// Every way `dest` is less restricted than `source`, worded for a person (`source_name`: the
/// source server's name). Empty: `dest` is at least as restricted.
pub fn less_restricted(
    source: &SharingSettings,
    dest: &SharingSettings,
    source_name: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for ((name, s), (_, d)) in filters(source).into_iter().zip(filters(dest)) {
        if filter_looser(s, d) {
            let now = match text(d) {
                "" => "none".to_string(),
                d => format!("'{d}'"),
            };
            out.push(format!("{name} {now} (on {source_name}: '{}')", text(s)));
        }
    }
    for ((name, s), (_, d)) in permissions(source).into_iter().zip(permissions(dest)) {
        if d && !s {
            out.push(format!("{name} on (off on {source_name})"));
        }
    }
    if dest.allow_tuners > source.allow_tuners {
        out.push(format!(
            "allowTuners {} (on {source_name}: {})",
            dest.allow_tuners, source.allow_tuners
        ));
    }
    out
}

/// The same restrictions, as two reads of one share show them: a missing filter and an empty
/// one alike (the legacy read spells v2's `null` as `""`).
pub fn same(a: &SharingSettings, b: &SharingSettings) -> bool {
    permissions(a) == permissions(b)
        && a.allow_tuners == b.allow_tuners
        && filters(a)
            .into_iter()
            .zip(filters(b))
            .all(|((_, x), (_, y))| text(x) == text(y))
}

/// A short description of the restrictions a share carries: each filter and each permission
/// that is granted; "no filters, no permissions" for plex.tv's defaults.
pub fn describe(s: &SharingSettings) -> String {
    let mut parts: Vec<String> = filters(s)
        .into_iter()
        .filter(|(_, f)| !text(f).is_empty())
        .map(|(name, f)| format!("{name}={}", text(f)))
        .collect();
    parts.extend(
        permissions(s)
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| name.to_string()),
    );
    if s.allow_tuners > 0 {
        parts.push(format!("allowTuners={}", s.allow_tuners));
    }
    if parts.is_empty() {
        "no filters, no permissions".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn filters_compare_by_clause() {
        // Same, or no source filter: never looser.
        assert!(!filter_looser(&f("contentRating=G"), &f("contentRating=G")));
        assert!(!filter_looser(&None, &f("label!=Horror")));
        assert!(!filter_looser(&f(""), &None));
        // Missing.
        assert!(filter_looser(&f("contentRating=G%2CPG"), &None));
        assert!(filter_looser(&f("label!=Horror"), &f("")));
        // Allow-list: fewer values is stricter, more is looser.
        assert!(!filter_looser(
            &f("contentRating=G%2CPG"),
            &f("contentRating=G")
        ));
        assert!(filter_looser(
            &f("contentRating=G"),
            &f("contentRating=G%2CPG")
        ));
        // Exclusion: more values is stricter, fewer is looser.
        assert!(!filter_looser(
            &f("label!=Horror"),
            &f("label!=Horror%2CGore")
        ));
        assert!(filter_looser(
            &f("label!=Horror%2CGore"),
            &f("label!=Horror")
        ));
        // Every source clause must be covered; extra destination clauses only restrict more.
        assert!(!filter_looser(
            &f("contentRating=G|label!=Horror"),
            &f("label!=Horror|contentRating=G|label!=Gore")
        ));
        assert!(filter_looser(
            &f("contentRating=G|label!=Horror"),
            &f("contentRating=G")
        ));
        // The sense matters.
        assert!(filter_looser(&f("label!=Horror"), &f("label=Horror")));
        // A destination clause with no values restricts nothing known: looser.
        assert!(filter_looser(&f("contentRating=G"), &f("contentRating=")));
        assert!(filter_looser(&f("label!=Horror"), &f("label!=")));
        assert!(!filter_looser(
            &f("contentRating=G"),
            &f("contentRating=|contentRating=G")
        ));
        // Unparseable and different: looser.
        assert!(filter_looser(&f("weird"), &f("other")));
    }

    #[test]
    fn less_restricted_names_each_loosening() {
        let source = SharingSettings {
            filter_movies: f("contentRating=G%2CPG"),
            allow_tuners: 1,
            ..SharingSettings::default()
        };
        let dest = SharingSettings {
            allow_sync: true,
            allow_tuners: 2,
            ..SharingSettings::default()
        };
        assert_eq!(
            less_restricted(&source, &dest, "noodle"),
            vec![
                "filterMovies none (on noodle: 'contentRating=G%2CPG')".to_string(),
                "allowSync on (off on noodle)".to_string(),
                "allowTuners 2 (on noodle: 1)".to_string(),
            ]
        );
        // The other way round the destination is stricter everywhere.
        assert!(less_restricted(&dest, &source, "x").is_empty());
        assert!(less_restricted(&source, &source, "noodle").is_empty());
        // A stricter destination is no warning.
        let stricter = SharingSettings {
            filter_movies: f("contentRating=G"),
            ..SharingSettings::default()
        };
        assert!(less_restricted(&source, &stricter, "noodle").is_empty());
    }

    #[test]
    fn describe_names_filters_and_granted_permissions() {
        assert_eq!(
            describe(&SharingSettings::default()),
            "no filters, no permissions"
        );
        let s = SharingSettings {
            allow_sync: true,
            filter_movies: f("contentRating=G"),
            filter_photos: f(""),
            ..SharingSettings::default()
        };
        assert_eq!(describe(&s), "filterMovies=contentRating=G, allowSync");
    }
}
