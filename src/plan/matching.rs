//! Matching libraries by name: each source library's destination library, decided once for all
//! accounts (aliases, exclusions, duplicate names, differing types).

use std::collections::{BTreeMap, BTreeSet};

use unicode_normalization::UnicodeNormalization;

use crate::model::{Library, LibraryId, Server};

use super::options::PlanOptions;

/// The comparison key for library names: trimmed, NFC, case-folded.
pub fn normalize_title(title: &str) -> String {
    title.trim().nfc().collect::<String>().to_lowercase()
}

/// How each source library maps to the destination, decided once for all accounts.
pub(super) enum Mapping<'a> {
    To(&'a Library),
    Unavailable(String),
}

/// Each source library's destination (or why it has none), and what matching noticed.
pub(super) struct LibraryMatcher<'a> {
    pub(super) mapping: BTreeMap<LibraryId, Mapping<'a>>,
    pub(super) warnings: Vec<String>,
}

impl<'a> LibraryMatcher<'a> {
    pub(super) fn new(source: &'a Server, dest: &'a Server, opts: &PlanOptions) -> Self {
        let mut warnings = Vec::new();
        let excluded: BTreeSet<String> = opts.exclude.iter().map(|t| normalize_title(t)).collect();
        let aliases: BTreeMap<String, String> = opts
            .aliases
            .iter()
            .map(|(s, d)| (normalize_title(s), normalize_title(d)))
            .collect();
        let source_names = index_by_name(&source.libraries);
        let dest_names = index_by_name(&dest.libraries);
        for (server, names) in [(source, &source_names), (dest, &dest_names)] {
            for libs in names.values().filter(|l| l.len() > 1) {
                warnings.push(format!(
                    "duplicate library name on {}: {}",
                    server.name,
                    libs[0].title.trim()
                ));
            }
        }

        let mut mapping = BTreeMap::new();
        for lib in &source.libraries {
            let name = normalize_title(&lib.title);
            let target = aliases.get(&name).cloned().unwrap_or_else(|| name.clone());
            let title = lib.title.trim();
            let decided = if excluded.contains(&name) || excluded.contains(&target) {
                Mapping::Unavailable(format!("'{title}' is excluded by config"))
            } else if source_names[&name].len() > 1 {
                Mapping::Unavailable(format!(
                    "'{title}' is ambiguous on {} (duplicate name), skipped",
                    source.name
                ))
            } else {
                match dest_names.get(&target).map(Vec::as_slice) {
                    None | Some([]) => {
                        Mapping::Unavailable(format!("'{title}' does not exist on {}", dest.name))
                    }
                    Some([found]) if found.kind != lib.kind && opts.require_same_type => {
                        warnings.push(type_warning(lib, found, source, dest, "not matched"));
                        Mapping::Unavailable(format!(
                            "'{title}' is {} on {} but {} on {}, and config requires equal types",
                            lib.kind, source.name, found.kind, dest.name
                        ))
                    }
                    Some([found]) => {
                        if found.kind != lib.kind {
                            warnings.push(type_warning(lib, found, source, dest, "matched anyway"));
                        }
                        Mapping::To(found)
                    }
                    Some(_) => Mapping::Unavailable(format!(
                        "'{title}' is ambiguous on {} (duplicate name), skipped",
                        dest.name
                    )),
                }
            };
            mapping.insert(lib.id, decided);
        }
        LibraryMatcher { mapping, warnings }
    }
}

fn type_warning(
    src: &Library,
    dst: &Library,
    source: &Server,
    dest: &Server,
    what: &str,
) -> String {
    format!(
        "library types differ: '{}' is {} on {} but {} on {} ({what})",
        src.title.trim(),
        src.kind,
        source.name,
        dst.kind,
        dest.name
    )
}

fn index_by_name(libraries: &[Library]) -> BTreeMap<String, Vec<&Library>> {
    let mut names: BTreeMap<String, Vec<&Library>> = BTreeMap::new();
    for lib in libraries {
        names
            .entry(normalize_title(&lib.title))
            .or_default()
            .push(lib);
    }
    names
}
