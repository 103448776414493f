//! The image and the compose example run every documented command, as a container would.

use super::*;

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
