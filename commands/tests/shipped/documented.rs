//! README's quick start and every `sharesync …` command the docs show.

use super::*;

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
