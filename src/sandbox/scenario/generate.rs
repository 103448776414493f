//! Generated scenarios (benchmarks, property tests).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::spec::{
    AccountSpec, LibrariesSpec, LibraryRef, LibrarySpec, OwnerSpec, ScenarioSpec, ServerSpec,
    SettingsSpec, ShareSpec,
};
use super::Scenario;

impl Scenario {
    /// Two owned servers, "noodle" (source) and "doodoo" (destination), with the same
    /// `libraries_per_server` library titles (in a different order, so keys differ), and
    /// `accounts` friends (~88%) and managed users with random shares: on noodle 8% none,
    /// 15% all, else a list; on doodoo 20% none, 10% all, 10% pending (friends), else a list.
    /// Deterministic for a given seed.
    pub fn generated(accounts: usize, libraries_per_server: usize, seed: u64) -> Scenario {
        generate(accounts, libraries_per_server, seed)
            .resolve()
            .unwrap_or_else(|e| panic!("generated scenario is invalid: {e}"))
    }
}

const GENERATED_TITLES: &[(&str, &str)] = &[
    ("Movies", "movie"),
    ("TV Shows", "show"),
    ("Music", "artist"),
    ("Kids", "movie"),
    ("Anime", "show"),
    ("Documentaries", "movie"),
    ("4K Movies", "movie"),
    ("Home Videos", "photo"),
    ("Concerts", "movie"),
    ("Audiobooks", "artist"),
    ("Classics", "movie"),
    ("Stand-Up", "show"),
    ("Foreign Films", "movie"),
    ("Sports", "show"),
    ("Podcasts", "artist"),
    ("Photos", "photo"),
    ("Cartoons", "show"),
    ("Reality TV", "show"),
    ("Mini-Series", "show"),
    ("Holiday", "movie"),
];

fn generate(accounts: usize, libraries_per_server: usize, seed: u64) -> ScenarioSpec {
    let mut rng = StdRng::seed_from_u64(seed);
    let libs: Vec<LibrarySpec> = (0..libraries_per_server)
        .map(|i| {
            let (title, kind) = GENERATED_TITLES[i % GENERATED_TITLES.len()];
            let round = i / GENERATED_TITLES.len();
            LibrarySpec {
                title: if round == 0 {
                    title.to_string()
                } else {
                    format!("{title} {}", round + 1)
                },
                kind: kind.to_string(),
                ..LibrarySpec::default()
            }
        })
        .collect();
    // doodoo lists the same titles in reverse, so a title's key differs between the servers.
    let mut dest_libs = libs.clone();
    dest_libs.reverse();
    let n = libraries_per_server as u64;
    let mut spec = ScenarioSpec {
        owner: OwnerSpec {
            username: "sandbox-owner".into(),
            password: Some("sandbox-password".into()),
            ..OwnerSpec::default()
        },
        servers: vec![
            ServerSpec {
                name: "noodle".into(),
                libraries: libs,
                ..ServerSpec::default()
            },
            ServerSpec {
                name: "doodoo".into(),
                libraries: dest_libs,
                ..ServerSpec::default()
            },
        ],
        ..ScenarioSpec::default()
    };
    let subset = |rng: &mut StdRng, p: f64| -> Vec<LibraryRef> {
        let mut keys: Vec<LibraryRef> = (1..=n)
            .filter(|_| rng.gen_bool(p))
            .map(LibraryRef::Key)
            .collect();
        if keys.is_empty() && n > 0 {
            keys.push(LibraryRef::Key(rng.gen_range(1..=n)));
        }
        keys
    };
    for i in 0..accounts {
        let managed = rng.gen_bool(0.12);
        let handle = if managed {
            format!("Managed {i:05}")
        } else {
            format!("user{i:05}")
        };
        spec.accounts.push(AccountSpec {
            username: (!managed).then(|| handle.clone()),
            title: Some(if managed {
                handle.clone()
            } else {
                format!("User {i:05}")
            }),
            managed,
            ..AccountSpec::default()
        });
        if n == 0 {
            continue;
        }
        let settings = SettingsSpec {
            allow_sync: Some(rng.gen_bool(0.5)),
            allow_tuners: Some(rng.gen_range(0..=2)),
            filter_movies: rng
                .gen_bool(0.1)
                .then(|| "contentRating=G%2CPG".to_string()),
            ..SettingsSpec::default()
        };
        let share = |server: &str,
                     libraries: LibrariesSpec,
                     stale: Vec<LibraryRef>,
                     pending: bool| ShareSpec {
            server: server.into(),
            account: Some(handle.clone()),
            invited_email: None,
            libraries,
            stale_libraries: stale,
            pending: Some(pending),
            settings: settings.clone(),
            omit_settings: false,
            partial_settings: false,
            id: None,
            invited_at: None,
            accepted_at: None,
        };
        let r: f64 = rng.gen();
        if r >= 0.08 {
            let s = if r < 0.23 {
                let stale = if rng.gen_bool(0.3) {
                    subset(&mut rng, 0.5)
                } else {
                    Vec::new()
                };
                share("noodle", LibrariesSpec::Word("all".into()), stale, false)
            } else {
                share(
                    "noodle",
                    LibrariesSpec::List(subset(&mut rng, 0.4)),
                    Vec::new(),
                    false,
                )
            };
            spec.shares.push(s);
        }
        let r: f64 = rng.gen();
        if r >= 0.20 {
            let s = if r < 0.30 {
                share(
                    "doodoo",
                    LibrariesSpec::Word("all".into()),
                    Vec::new(),
                    false,
                )
            } else if r < 0.40 && !managed {
                share(
                    "doodoo",
                    LibrariesSpec::List(subset(&mut rng, 0.3)),
                    Vec::new(),
                    true,
                )
            } else {
                share(
                    "doodoo",
                    LibrariesSpec::List(subset(&mut rng, 0.3)),
                    Vec::new(),
                    false,
                )
            };
            spec.shares.push(s);
        }
    }
    spec
}
