//! What ships, run as shipped. A Docker engine is not available to the tests, so the
//! contract the image relies on is tested instead of the image: the Dockerfile's runtime stage
//! (`ENV`, `WORKDIR`, `ENTRYPOINT`, `CMD`, `HEALTHCHECK`, the user's home) and the compose
//! example's `environment:` and `volumes:` are read from the files, and the real binary runs with
//! exactly that argv and only those variables (the real environment cleared), the config
//! mounted from config/sharesync.example.toml and the volumes in a temporary directory. Then
//! README's quick start and every `sharesync …` command README, docs/ and config/ show are run
//! against the simulated plex.tv.

#![recursion_limit = "512"]

#[path = "shipped/container.rs"]
mod container;
#[path = "shipped/documented.rs"]
mod documented;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sharesync::sandbox::{Sandbox, Scenario};
use support::fake_discord::{FakeDiscord, GUILD_ID};
use support::fixtures::ADMIN_ROLE;

const WAIT: Duration = Duration::from_secs(30);

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The simulated plex.tv and the fake Discord on their own runtime, so the synchronous
/// process runs can talk to them.
struct Fakes {
    sandbox: Sandbox,
    discord: FakeDiscord,
    _runtime: tokio::runtime::Runtime,
}

fn fakes() -> Fakes {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime.block_on(Sandbox::start(Scenario::demo())).unwrap();
    let discord = runtime.block_on(FakeDiscord::start());
    Fakes {
        sandbox,
        discord,
        _runtime: runtime,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

// ---------------------------------------------------------------------------------------------
// The Dockerfile and the compose example, read as Docker reads them.

/// The Dockerfile's runtime (last) stage.
#[derive(Debug, Default)]
struct Image {
    env: Vec<(String, String)>,
    workdir: String,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    /// The image user's home (`useradd --home-dir`): Docker sets HOME to it.
    home: String,
}

/// PATH in the image: the base image's (debian), which the Dockerfile keeps.
const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn image() -> Image {
    let dockerfile = read("Dockerfile");
    // Comment lines dropped, continuation lines joined (as Docker does).
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(line);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    let runtime_stage = instructions
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .expect("a FROM");
    let mut image = Image::default();
    for instruction in &instructions[runtime_stage..] {
        let (word, rest) = instruction.split_once(' ').unwrap_or((instruction, ""));
        match word {
            "ENV" => image.env.extend(env_pairs(rest)),
            "WORKDIR" => image.workdir = rest.trim().to_string(),
            "ENTRYPOINT" => image.entrypoint = exec_form(rest),
            "CMD" => image.cmd = exec_form(rest),
            "RUN" => {
                if let Some((_, home)) = rest.split_once("--home-dir ") {
                    image.home = home.split_whitespace().next().unwrap_or_default().into();
                }
            }
            "HEALTHCHECK" => {
                let (_options, command) = rest.split_once("CMD ").expect("HEALTHCHECK CMD");
                image.healthcheck = exec_form(command);
            }
            _ => {}
        }
    }
    image
}

/// `["a", "b"]`: the exec form, the only one that runs without a shell.
fn exec_form(s: &str) -> Vec<String> {
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not an exec form: {s}: {e}"))
}

/// `ENV A=1 B="two words"`, or the old `ENV A value` form.
fn env_pairs(rest: &str) -> Vec<(String, String)> {
    let rest = rest.trim();
    let first = rest.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        let (k, v) = rest.split_once(' ').expect("ENV KEY VALUE");
        return vec![(k.to_string(), v.trim().to_string())];
    }
    let mut pairs = Vec::new();
    let (mut word, mut quoted) = (String::new(), false);
    for c in rest.chars().chain([' ']) {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if let Some((k, v)) = word.split_once('=') {
                    pairs.push((k.to_string(), v.to_string()));
                }
                word.clear();
            }
            c => word.push(c),
        }
    }
    pairs
}

/// The compose example's service: its `environment:` and `volumes:` (`source:target[:mode]`).
struct ComposeService {
    environment: Vec<(String, String)>,
    volumes: Vec<(String, String)>,
    command: Option<Vec<String>>,
}

fn compose() -> ComposeService {
    use yaml_rust2::Yaml;
    let docs = yaml_rust2::YamlLoader::load_from_str(&read("config/docker-compose.example.yml"))
        .expect("valid YAML");
    let service = &docs[0]["services"]["sharesync"];
    let scalar = |y: &Yaml| match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    };
    let environment = match &service["environment"] {
        Yaml::Hash(h) => h.iter().map(|(k, v)| (scalar(k), scalar(v))).collect(),
        Yaml::Array(a) => a
            .iter()
            .map(|e| {
                let (k, v) = scalar(e)
                    .split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .expect("KEY=VALUE");
                (k, v)
            })
            .collect(),
        _ => Vec::new(),
    };
    let volumes = service["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .map(|v| {
            let v = scalar(v);
            let mut parts = v.split(':');
            (
                parts.next().unwrap().to_string(),
                parts.next().expect("source:target").to_string(),
            )
        })
        .collect();
    let command = match &service["command"] {
        Yaml::Array(a) => Some(a.iter().map(scalar).collect()),
        Yaml::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
        _ => None,
    };
    ComposeService {
        environment,
        volumes,
        command,
    }
}
