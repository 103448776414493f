//! What ships, run as shipped. A Docker engine is not available to the tests, so the
//! contract the image relies on is tested instead of the image: the Dockerfile's runtime stage
//! (`ENV`, `WORKDIR`, `ENTRYPOINT`, `CMD`, `HEALTHCHECK`, the user's home) and the compose
//! example's `environment:` and `volumes:` are read from the files, and the real binary runs with
//! exactly that argv and only those variables (the real environment cleared), the config
//! mounted from config/sharesync.example.toml and the volumes in a temporary directory. Then
//! README's quick start and every `sharesync …` command README, docs/ and config/ show are run
//! against the simulated plex.tv.

#![recursion_limit = "512"]

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

/// A container's filesystem laid out in a temporary directory: every mount target is a path
/// there; a `./NAME.toml` bind mount holds config/sharesync.example.toml (the compose file's
/// "put your sharesync.toml next to this file (see sharesync.example.toml)"), a named volume
/// starts empty.
struct Container {
    _root: tempfile::TempDir,
    mounts: Vec<(String, PathBuf)>,
    env: Vec<(String, String)>,
    workdir: PathBuf,
}

impl Container {
    fn new(
        image: &Image,
        compose: Option<&ComposeService>,
        volumes: &[(String, String)],
    ) -> Container {
        let root = tempfile::tempdir().unwrap();
        let mut mounts = Vec::new();
        for (i, (source, target)) in volumes.iter().enumerate() {
            let host = root.path().join(format!("mount-{i}"));
            if source.starts_with("./") && source.ends_with(".toml") {
                std::fs::copy(repo("config/sharesync.example.toml"), &host).unwrap();
            } else {
                std::fs::create_dir_all(&host).unwrap();
            }
            mounts.push((target.clone(), host));
        }
        assert!(!image.home.is_empty(), "the image's user has a home");
        let mut env = vec![
            ("PATH".to_string(), IMAGE_PATH.to_string()),
            ("HOME".to_string(), image.home.clone()),
        ];
        env.extend(image.env.iter().cloned());
        if let Some(c) = compose {
            env.extend(c.environment.iter().cloned());
        }
        let mut container = Container {
            _root: root,
            mounts,
            env: Vec::new(),
            workdir: PathBuf::new(),
        };
        container.env = env
            .into_iter()
            .map(|(k, v)| {
                let v = container.host(&v).to_string_lossy().into_owned();
                (k, v)
            })
            .collect();
        container.workdir = container.host(&image.workdir);
        assert!(
            container.workdir.is_dir(),
            "WORKDIR {} is not a volume",
            image.workdir
        );
        container
    }

    /// Where a path inside the container is on this machine (values that are no mounted path
    /// are returned unchanged).
    fn host(&self, path: &str) -> PathBuf {
        for (target, host) in &self.mounts {
            if path == target {
                return host.clone();
            }
            if let Some(rest) = path.strip_prefix(&format!("{target}/")) {
                return host.join(rest);
            }
        }
        PathBuf::from(path)
    }

    /// `argv` as the container runs it: `argv[0]` is the entrypoint, the image's binary (here
    /// the one just built), in WORKDIR, with only the image's variables (a developer's exported
    /// DISCORD_TOKEN or SHARESYNC_* must neither reach the network nor change the outcome).
    fn command(&self, argv: &[String]) -> Command {
        assert_eq!(argv[0], "sharesync", "the image runs the sharesync binary");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sharesync"));
        cmd.args(&argv[1..])
            .current_dir(&self.workdir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, argv: &[String], extra: &[(&str, &str)]) -> Output {
        self.command(argv)
            .envs(extra.iter().copied())
            .output()
            .unwrap()
    }
}

/// The image's entrypoint with arguments, as `docker run IMAGE ARGS` runs them.
fn docker_run(image: &Image, args: &[&str]) -> Vec<String> {
    image
        .entrypoint
        .iter()
        .cloned()
        .chain(args.iter().map(|a| a.to_string()))
        .collect()
}

/// Every command README and the image document, in `container`: they start, do what README
/// says, and nothing in the shipped environment is mistaken for a config key.
fn documented_commands_work_in(
    container: &Container,
    image: &Image,
    fakes: &Fakes,
    json_logs: bool,
) {
    let token = fakes.sandbox.owner_token();
    // What a user passes (`-e PLEX_ACCOUNT_TOKEN=...`, `.env`); PLEX_TV_URL points at the fake.
    let plex: [(&str, &str); 2] = [
        ("PLEX_ACCOUNT_TOKEN", &token),
        ("PLEX_TV_URL", &fakes.sandbox.url()),
    ];
    let data = container.host("/data");
    let not_a_key = |out: &Output| {
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(
            !all.contains("not a sharesync setting") && !all.contains("is invalid"),
            "the shipped environment is read as config:\n{}",
            show(out)
        );
    };

    // `docker run --rm ... sharesync sync --sandbox`: the sandbox plan.
    let out = container.run(&docker_run(image, &["sync", "--sandbox"]), &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("Source server: noodle ("),
        "{}",
        show(&out)
    );
    not_a_key(&out);

    // `sync` against plex.tv with the mounted config: the example's pair.
    let out = container.run(&docker_run(image, &["sync"]), &plex);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("Destination server: doodoo ("),
        "{}",
        show(&out)
    );
    not_a_key(&out);

    // `doctor`: every check passes, the config is the mounted one and the store is in /data.
    let out = container.run(&docker_run(image, &["doctor"]), &plex);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", show(&out));
    let config = container.host("/config/sharesync.toml");
    assert!(
        stdout.contains(&format!("loaded ({})", config.display())),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains(&format!(
            "store: {}",
            data.join("sharesync.sqlite").display()
        )),
        "{}",
        show(&out)
    );
    assert!(stdout
        .lines()
        .any(|l| l.starts_with("ok") && l.contains("pair main")));
    not_a_key(&out);

    // `schedules`: the example config has none and says how to add one.
    let out = container.run(&docker_run(image, &["schedules"]), &[]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(text(&out.stdout).contains("No schedules"), "{}", show(&out));
    not_a_key(&out);

    // HEALTHCHECK without a bot: unhealthy.
    let out = container.run(&image.healthcheck, &[]);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("bot is not running"),
        "{}",
        show(&out)
    );
    not_a_key(&out);

    // CMD: the bot, against the fake Discord, until its heartbeat makes HEALTHCHECK pass.
    let discord_url = fakes.discord.url();
    let guilds = format!("[{GUILD_ID}]");
    let roles = format!("[{ADMIN_ROLE}]");
    let mut bot = container
        .command(&docker_run(
            image,
            &image.cmd.iter().map(String::as_str).collect::<Vec<_>>(),
        ))
        .envs(plex)
        .envs([
            ("DISCORD_TOKEN", "fake-discord-token"),
            ("DISCORD_API_URL", discord_url.as_str()),
            ("SHARESYNC_DISCORD__GUILD_IDS", guilds.as_str()),
            ("SHARESYNC_DISCORD__ADMIN_ROLE_IDS", roles.as_str()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let healthy = loop {
        let out = container.run(&image.healthcheck, &[]);
        if out.status.success() {
            break out;
        }
        if Instant::now() > deadline || bot.try_wait().unwrap().is_some() {
            let _ = bot.kill();
            panic!(
                "the bot never became healthy: {}\nbot: {}",
                show(&out),
                show(&bot.wait_with_output().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        text(&healthy.stdout).contains("healthy"),
        "{}",
        show(&healthy)
    );
    // `docker stop` sends SIGTERM: the bot stops cleanly. The shell's builtin `kill`, as a
    // `kill` program may be missing (procps is not in slim images).
    let stopped = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", bot.id())])
        .status()
        .unwrap();
    assert!(stopped.success());
    let out = bot.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the bot's exit on SIGTERM: {}",
        show(&out)
    );
    not_a_key(&out);

    // README's troubleshooting: `SHARESYNC_LOG=debug` logs every plex.tv request.
    let out = container.run(
        &docker_run(image, &["sync"]),
        &[plex[0], plex[1], ("SHARESYNC_LOG", "debug")],
    );
    assert!(out.status.success(), "{}", show(&out));
    let log = text(&out.stderr);
    assert!(log.contains("DEBUG"), "no debug log:\n{}", show(&out));
    assert!(
        log.contains("plex.tv answered"),
        "no request logged:\n{}",
        show(&out)
    );
    assert!(!log.contains(&token), "the token is logged");
    if json_logs {
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
            assert!(v["level"].is_string(), "{line}");
        }
    }
    not_a_key(&out);
}

#[test]
fn the_dockerfiles_image_runs_every_documented_command() {
    let image = image();
    assert_eq!(image.entrypoint, ["sharesync"]);
    assert_eq!(image.cmd, ["bot"], "the image runs the bot");
    assert_eq!(image.healthcheck, ["sharesync", "health"]);
    // README's `docker run`: the config mounted at /config/sharesync.toml, a volume at /data.
    let volumes = [
        (
            "./sharesync.toml".to_string(),
            "/config/sharesync.toml".to_string(),
        ),
        ("sharesync-data".to_string(), "/data".to_string()),
    ];
    let readme = read("README.md");
    for (_, target) in &volumes {
        assert!(
            readme.contains(&format!(":{target}")),
            "README mounts {target}"
        );
    }
    let container = Container::new(&image, None, &volumes);
    documented_commands_work_in(&container, &image, &fakes(), false);
}

#[test]
fn the_compose_example_runs_every_documented_command() {
    let image = image();
    let service = compose();
    assert!(
        !service.environment.is_empty(),
        "the compose example sets variables"
    );
    assert_eq!(service.command, None, "compose runs the image's CMD");
    let container = Container::new(&image, Some(&service), &service.volumes);
    let json = service
        .environment
        .iter()
        .any(|(k, v)| k == "SHARESYNC_LOG_FORMAT" && v == "json");
    documented_commands_work_in(&container, &image, &fakes(), json);
}

// ---------------------------------------------------------------------------------------------
// README's quick start and every `sharesync …` command the docs show.

/// The commands in README's quick-start code block, comments dropped.
fn quick_start() -> Vec<String> {
    let readme = read("README.md");
    let section = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let block = section
        .split("```bash\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a bash block");
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readmes_quick_start_runs_as_written_and_ci_runs_it() {
    let commands = quick_start();
    assert_eq!(
        commands,
        [
            "cargo run --release -- sync --sandbox",
            "cargo test --workspace"
        ],
        "README's quick start is two commands"
    );
    // The first: `cargo run` at the root runs the sharesync binary (the workspace's only
    // binary in its default members) with the arguments after `--`, from any directory.
    let args: Vec<&str> = commands[0]
        .split(" -- ")
        .nth(1)
        .unwrap()
        .split(' ')
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sharesync"))
        .args(&args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let stdout = text(&out.stdout);
    for line in [
        "Source server: noodle (",
        "Destination server: doodoo (",
        "Mode: DRY RUN",
        "Will add on dest for user 'alice'",
        "Summary:",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    let manifest = read("Cargo.toml");
    assert!(
        manifest.contains("default-members = [\".\", \"commands\"]"),
        "`cargo run` at the root needs the commands package among the default members"
    );

    // CI runs both exactly as written, the first right after the release build.
    let ci = read(".ci/run");
    let lines: Vec<&str> = ci.lines().map(str::trim).collect();
    for command in &commands {
        assert!(
            lines.contains(&command.as_str()),
            ".ci/run lacks `{command}`"
        );
    }
    let build = lines
        .iter()
        .position(|l| l.starts_with("cargo build --release"))
        .expect(".ci/run builds the release binary");
    let next = lines[build + 1..]
        .iter()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap();
    assert_eq!(
        *next, commands[0],
        "the quick start runs right after the release build"
    );
}

/// Every `sharesync <command> …` in README.md, docs/*.md (code spans and code blocks) and the
/// comments of config/*.toml and config/*.yml, in order, without repeats.
fn documented_commands() -> Vec<(String, String)> {
    let subcommands = [
        "sync",
        "servers",
        "login",
        "apply",
        "undo",
        "runs",
        "bot",
        "schedules",
        "doctor",
        "health",
    ];
    let mut files = vec![repo("README.md")];
    for dir in ["docs", "config"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(repo(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("md" | "toml" | "yml")
                )
            })
            .collect();
        entries.sort();
        files.extend(entries);
    }
    let spans = |line: &str| -> Vec<String> {
        line.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read_to_string(&file).unwrap();
        let mut code = Vec::new();
        if name.ends_with(".md") {
            let mut fenced = false;
            for line in body.lines() {
                if line.trim_start().starts_with("```") {
                    fenced = !fenced;
                } else if fenced {
                    code.push(line.split(" #").next().unwrap_or_default().to_string());
                } else {
                    code.extend(spans(line));
                }
            }
        } else {
            for comment in body
                .lines()
                .filter_map(|l| l.split_once('#').map(|(_, c)| c))
            {
                let s = spans(comment);
                if s.is_empty() {
                    code.push(comment.to_string());
                } else {
                    code.extend(s);
                }
            }
        }
        for snippet in code {
            let mut rest = snippet.as_str();
            while let Some(at) = rest.find("sharesync ") {
                let before = rest[..at].chars().last();
                let command = rest[at..].trim_end();
                rest = &rest[at + "sharesync ".len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || "-_./".contains(c)) {
                    continue;
                }
                let first = command.split_whitespace().nth(1).unwrap_or_default();
                if subcommands.contains(&first) && !found.iter().any(|(c, _)| c == command) {
                    found.push((command.to_string(), name.clone()));
                }
            }
        }
    }
    found
}

/// How each documented command behaves on the simulated plex.tv with the example config.
enum Expect {
    /// Exit 0 and this on stdout.
    Prints(&'static str),
    /// Exit non-zero and this on stderr (what the docs say happens).
    Refuses(&'static str),
    /// The PIN flow: the person enters the printed code at plex.tv/link.
    Login,
    /// Needs Discord credentials: checked to parse (`--help`); the image tests run the bot.
    Parses,
}

fn expectation(command: &str) -> Expect {
    match command {
        "sharesync login" => Expect::Login,
        "sharesync bot" => Expect::Parses,
        "sharesync health" => Expect::Refuses("bot is not running"),
        "sharesync undo RUN" => Expect::Refuses("pass --yes"),
        "sharesync servers" => Expect::Prints("library"),
        "sharesync doctor" => Expect::Prints("ok    plex token"),
        "sharesync doctor --deep" => Expect::Prints("v2 and legacy agree"),
        "sharesync schedules" => Expect::Prints("No schedules"),
        "sharesync runs" | "sharesync runs [RUN]" | "sharesync runs RUN" => Expect::Prints("#1"),
        "sharesync apply FILE" => Expect::Prints("Applying "),
        "sharesync sync --json" => Expect::Prints("\"schema\": 1"),
        c if c.starts_with("sharesync sync") => Expect::Prints("Summary:"),
        other => {
            panic!("`{other}` is documented but this test does not know what it should do: add it")
        }
    }
}

#[test]
fn every_sharesync_command_in_readme_docs_and_config_runs_on_the_sandbox() {
    let fakes = fakes();
    let dir = tempfile::tempdir().unwrap();
    // A directory holding sharesync.toml (README: "run it from a directory holding
    // sharesync.toml"), only PATH, a home of its own, the credentials and a data directory (a
    // developer's exported variables must not change what runs).
    std::fs::copy(
        repo("config/sharesync.example.toml"),
        dir.path().join("sharesync.toml"),
    )
    .unwrap();
    let token = fakes.sandbox.owner_token();
    let url = fakes.sandbox.url();
    let data = dir.path().join("state");
    let home = dir.path().join("home");
    let sharesync = |args: &[String]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sharesync"));
        cmd.args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("PLEX_ACCOUNT_TOKEN", &token)
            .env("PLEX_TV_URL", &url)
            .env("SHARESYNC_DATA_DIR", &data)
            .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0")
            .stdin(Stdio::null());
        cmd
    };
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let out = sharesync(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", show(&out));
        out
    };
    // Run 1, for RUN.
    run(&["sync", "--apply", "--only-user", "alice"]);

    let commands = documented_commands();
    let mut exercised = Vec::new();
    for (command, file) in &commands {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        // `[RUN]`: with and without; RUN: run 1; FILE: a scenario after --scenario, else a
        // plan saved just before.
        let variants: Vec<Vec<&str>> = if words.contains(&"[RUN]") {
            let without: Vec<&str> = words.iter().copied().filter(|w| *w != "[RUN]").collect();
            let with: Vec<&str> = words
                .iter()
                .map(|w| if *w == "[RUN]" { "1" } else { w })
                .collect();
            vec![without, with]
        } else {
            vec![words.clone()]
        };
        for words in variants {
            let mut args: Vec<String> = Vec::new();
            for (i, w) in words.iter().enumerate() {
                args.push(match *w {
                    "RUN" => "1".to_string(),
                    "FILE" if i > 0 && words[i - 1] == "--scenario" => {
                        repo("config/sandbox-scenario.toml")
                            .to_string_lossy()
                            .into_owned()
                    }
                    "FILE" => {
                        let plan = dir.path().join(format!("plan-{}.json", exercised.len()));
                        run(&["sync", "--save-plan", plan.to_str().unwrap()]);
                        plan.to_string_lossy().into_owned()
                    }
                    w => w.to_string(),
                });
            }
            let shown = format!("{command} ({file}) as `sharesync {}`", args.join(" "));
            match expectation(command) {
                Expect::Prints(needle) => {
                    let out = sharesync(&args).output().unwrap();
                    assert!(out.status.success(), "{shown}: {}", show(&out));
                    assert!(
                        text(&out.stdout).contains(needle),
                        "{shown}: {needle:?} missing: {}",
                        show(&out)
                    );
                }
                Expect::Refuses(needle) => {
                    let out = sharesync(&args).output().unwrap();
                    assert!(!out.status.success(), "{shown}: {}", show(&out));
                    assert!(
                        text(&out.stderr).contains(needle),
                        "{shown}: {needle:?} missing: {}",
                        show(&out)
                    );
                    assert!(
                        !text(&out.stderr).contains("panicked"),
                        "{shown}: {}",
                        show(&out)
                    );
                }
                Expect::Parses => {
                    args.push("--help".into());
                    let out = sharesync(&args).output().unwrap();
                    assert!(out.status.success(), "{shown}: {}", show(&out));
                }
                Expect::Login => {
                    let child = sharesync(&args)
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap();
                    // The person enters the code at plex.tv/link once sharesync printed it.
                    let deadline = Instant::now() + WAIT;
                    let pin = loop {
                        if let Some(id) = fakes.sandbox.world().pins.keys().next_back().copied() {
                            break id;
                        }
                        assert!(Instant::now() < deadline, "{shown}: no PIN was created");
                        std::thread::sleep(Duration::from_millis(50));
                    };
                    fakes.sandbox.approve_pin(pin);
                    let out = child.wait_with_output().unwrap();
                    assert!(out.status.success(), "{shown}: {}", show(&out));
                    assert!(
                        text(&out.stdout).contains("Signed in as"),
                        "{shown}: {}",
                        show(&out)
                    );
                    assert!(data.join("plex-token").is_file(), "{shown}: no token saved");
                }
            }
            exercised.push(shown);
        }
    }
    // The list the issue asks for, in the test log.
    println!("exercised:\n{}", exercised.join("\n"));
    for must in [
        "sharesync sync",
        "sharesync doctor",
        "sharesync health",
        "sharesync login",
    ] {
        assert!(
            commands.iter().any(|(c, _)| c == must),
            "`{must}` is no longer documented? {commands:?}"
        );
    }
}
