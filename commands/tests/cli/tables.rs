//! Tables line up on a terminal, whatever the names' scripts.

use super::*;

/// Accents (one precomposed, one decomposed) and CJK in server, library, account, pair and
/// schedule names: the tables must still line up on a terminal.
const WIDE_SCENARIO: &str = r#"
[owner]
username = "owner"

[[server]]
name = "東京"
libraries = [
  { title = "Pel\u0069\u0301culas", type = "movie" },
  { title = "映画コレクション", type = "movie" },
  { title = "TV", type = "show" },
]

[[server]]
name = "doodoo"
libraries = [
  { title = "Pel\u00EDculas", type = "movie" },
  { title = "映画コレクション", type = "movie" },
  { title = "TV", type = "show" },
]

[[account]]
username = "山田"

[[share]]
server = "東京"
account = "山田"
libraries = ["Pel\u0069\u0301culas", "映画コレクション"]

[[share]]
server = "doodoo"
account = "山田"
libraries = ["TV"]
"#;

/// Where `needle` starts in `line`, in terminal columns.
fn column_of(line: &str, needle: &str) -> usize {
    let at = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {line:?}"));
    unicode_width::UnicodeWidthStr::width(&line[..at])
}

/// Every row's cells start in the terminal column of their header (left-aligned columns).
fn assert_aligned(header: &str, rows: &[(&str, &[&str])], columns: &[&str], text: &str) {
    for (line, cells) in rows {
        for (column, cell) in columns.iter().zip(cells.iter()) {
            assert_eq!(
                column_of(line, cell),
                column_of(header, column),
                "{cell:?} is not under {column:?}:\n{text}"
            );
        }
    }
}

#[test]
fn tables_line_up_with_accents_and_cjk() {
    let fake = fake_with(Scenario::from_toml_str(WIDE_SCENARIO).unwrap());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sharesync.toml"),
        "[[pair]]\nname = \"películas\"\nsource = \"東京\"\ndest = \"doodoo\"\n\
         [[schedule]]\nname = \"毎晩の同期\"\npair = \"películas\"\ncron = \"0 3 * * *\"\n\
         [[schedule]]\nname = \"weekly\"\npair = \"películas\"\ncron = \"@weekly\"\n",
    )
    .unwrap();
    let token = fake.sandbox.owner_token();
    let stdout = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };

    let text = stdout(against(&fake, &dir, &token).arg("servers"));
    let lines: Vec<&str> = text.lines().collect();
    let tokyo = lines.iter().position(|l| l.starts_with("東京")).unwrap();
    let header = lines[tokyo + 1];
    let rows: Vec<(&str, &[&str])> = vec![
        (lines[tokyo + 2], &["Pel\u{69}\u{301}culas", "movie"]),
        (lines[tokyo + 3], &["映画コレクション", "movie"]),
        (lines[tokyo + 4], &["TV", "show"]),
    ];
    assert_aligned(header, &rows, &["library", "type"], &text);
    // The numbers are right-aligned: every id ends in the header's last column of "id".
    let id_end = column_of(header, "id") + 2;
    for (line, _) in &rows {
        let end = line[..line.trim_end().rfind(' ').unwrap()].trim_end();
        assert_eq!(unicode_width::UnicodeWidthStr::width(end), id_end, "{text}");
    }

    stdout(
        against(&fake, &dir, &token)
            .env("USER", "José")
            .args(["sync", "--apply"])
            .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0"),
    );
    stdout(
        against(&fake, &dir, &token)
            .env("USER", "山田")
            .args(["sync", "--apply", "--source", "doodoo", "--dest", "東京"])
            .env("SHARESYNC_LIMITS__WRITES_PER_SECOND", "0"),
    );
    let text = stdout(against(&fake, &dir, &token).arg("runs"));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("Runs recorded in "), "{text}");
    assert!(
        lines[0].contains(&*dir.path().join("data").to_string_lossy()),
        "{text}"
    );
    let rows: Vec<(&str, &[&str])> = vec![
        (lines[2], &["#2", "apply", "doodoo -> 東京", "cli:山田"]),
        (lines[3], &["#1", "apply", "東京 -> doodoo", "cli:José"]),
    ];
    assert_aligned(lines[1], &rows, &["run", "kind", "servers", "by"], &text);

    let text = stdout(against(&fake, &dir, &token).arg("schedules"));
    let lines: Vec<&str> = text.lines().collect();
    let rows: Vec<(&str, &[&str])> = vec![
        (
            lines[1],
            &["毎晩の同期", "películas", "report", "0 3 * * *"],
        ),
        (
            lines.iter().find(|l| l.starts_with("weekly")).unwrap(),
            &["weekly", "películas", "report", "@weekly"],
        ),
    ];
    assert_aligned(
        lines[0],
        &rows,
        &["schedule", "pair", "mode", "cron"],
        &text,
    );
}
