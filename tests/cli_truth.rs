//! Every command tells the same truth (issue "nothing is silently lost"): each test runs the
//! exact commands a user ran when the problem was found, on the committed sample logs.

#[allow(dead_code)] // the helpers the corpus tests share; this file uses a few
mod common;

use common::{ok, report, root, run as floodgate, tmp};
use std::path::Path;
use std::process::Command;

fn blocklist(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("blocklist-ipv4.txt")).unwrap()
}

/// The built-in rules, as a user copies them into a file of their own: nothing else.
const ONLY_RULES: &str = r#"
[[rules]]
name = "flood"
window = "5m"
limit = 600

[[rules]]
name = "errors"
window = "10m"
limit = 100
status = ["4xx"]

[[rules]]
name = "login"
window = "5m"
limit = 20
methods = ["POST"]
paths = ["/login", "/wp-login.php", "/xmlrpc.php", "/user/login", "/api/auth/*"]
"#;

/// Item 4: a configuration with only `[[rules]]` keeps the built-in private-range allowlist,
/// so the health checker 10.0.1.10 (36,000 requests, over `flood`) is not banned.
#[test]
fn a_config_with_only_rules_keeps_the_builtin_allowlist() {
    let dir = tmp("only-rules");
    let config = dir.join("c.toml");
    std::fs::write(&config, ONLY_RULES).unwrap();
    let out = dir.join("out");
    let (c, o) = (config.to_str().unwrap(), out.to_str().unwrap());
    ok(&[
        "analyze",
        "--quiet",
        "--config",
        c,
        "--out",
        o,
        "sample-logs",
    ]);
    assert!(
        !blocklist(&out).contains("10.0.1.10"),
        "{}",
        blocklist(&out)
    );
    assert_eq!(report(&out)["summary"]["allowlisted"], 36_000);
    assert!(ok(&["config", "check", c]).contains("ok"));
}

/// Item 6: `dry_run = true` in the configuration touches no IP set but still records the
/// decision in `--state`: the next day's run keeps the bans (only `--dry-run` skips the save).
#[test]
fn dry_run_in_the_config_still_saves_the_state() {
    let dir = tmp("dry-config");
    let config = dir.join("c.toml");
    std::fs::write(&config, format!("{ONLY_RULES}\n[ban]\ndry_run = true\n")).unwrap();
    let state = dir.join("s.state");
    let (c, s) = (config.to_str().unwrap(), state.to_str().unwrap());
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    ok(&[
        "analyze",
        "--quiet",
        "--config",
        c,
        "--state",
        s,
        "--out",
        o,
        "sample-logs",
    ]);
    assert!(state.exists(), "the state was not saved");
    let out2 = dir.join("out2");
    let o2 = out2.to_str().unwrap();
    let saved = floodgate(&["report", "--state", s, "--out", o2]);
    assert!(saved.status.success());
    assert!(
        !blocklist(&out2).is_empty(),
        "the saved state holds the bans"
    );
    let before = std::fs::metadata(&state).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    ok(&[
        "analyze",
        "--quiet",
        "--dry-run",
        "--state",
        s,
        "--out",
        o2,
        "sample-logs/cloudfront",
    ]);
    assert_eq!(
        std::fs::metadata(&state).unwrap().modified().unwrap(),
        before,
        "--dry-run wrote the state"
    );
}

/// Item 10: `--now` takes RFC 3339 offsets (the same instant as UTC), and "5M" is refused
/// instead of being read as five months.
#[test]
fn now_takes_offsets_and_months_are_refused() {
    let a = tmp("now-utc");
    let b = tmp("now-offset");
    let (ao, bo) = (a.to_str().unwrap(), b.to_str().unwrap());
    ok(&[
        "analyze",
        "--quiet",
        "--now",
        "2026-11-02T10:00:00Z",
        "--out",
        ao,
        "sample-logs",
    ]);
    ok(&[
        "analyze",
        "--quiet",
        "--now",
        "2026-11-02T11:00:00+01:00",
        "--out",
        bo,
        "sample-logs",
    ]);
    assert_eq!(blocklist(&a), blocklist(&b));
    assert_eq!(report(&a)["summary"]["now"], report(&b)["summary"]["now"]);
    let dir = tmp("months");
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        "[[rules]]\nname = \"r\"\nwindow = \"5M\"\nlimit = 10\n",
    )
    .unwrap();
    let out = floodgate(&["config", "check", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("months"));
}

/// Item 5: inputs that are not logs (a PNG, a ZIP, a CSV, a JSON array, a CloudWatch export)
/// exit 1 naming each input and why, and leave the earlier reports alone; `--strict` says why
/// it exits 3.
#[test]
fn input_that_is_not_a_log_fails_and_leaves_the_reports_alone() {
    let dir = tmp("not-logs");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    ok(&["analyze", "--quiet", "--out", o, "sample-logs"]);
    let before = std::fs::read(out.join("report.json")).unwrap();
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::write(
        inputs.join("a.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10",
    )
    .unwrap();
    std::fs::write(inputs.join("b.zip"), b"PK\x03\x04\x14\0\0\0\x08\0").unwrap();
    std::fs::write(inputs.join("c.csv"), "ip,time\n1.2.3.4,2026-11-02\n").unwrap();
    std::fs::write(
        inputs.join("d.json"),
        r#"[{"timestamp":1,"httpRequest":{}}]"#,
    )
    .unwrap();
    std::fs::write(
        inputs.join("e.txt"),
        "2026-11-02T10:00:00.000Z {\"timestamp\":1}\n",
    )
    .unwrap();
    let run = floodgate(&["analyze", "--quiet", "--out", o, inputs.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    for name in ["a.png", "b.zip", "c.csv", "d.json", "e.txt"] {
        assert!(err.contains(name), "{name} not named in: {err}");
    }
    assert!(err.contains("not a log"), "{err}");
    assert_eq!(
        std::fs::read(out.join("report.json")).unwrap(),
        before,
        "reports were rewritten"
    );
    // --strict says why it exits 3
    let strict = floodgate(&["analyze", "--quiet", "--strict", "--out", o, "sample-logs"]);
    assert_eq!(strict.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("rejected"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Item 3: local files are identified by content. The same folder copied elsewhere and
/// analyzed on the same state counts nothing again (the office 198.18.7.7 stays unbanned), and
/// standard input is read every time it brings new bytes.
#[test]
fn the_same_logs_under_another_path_are_not_counted_twice() {
    let dir = tmp("copies");
    let copy = dir.join("copy");
    copy_dir(&root().join("sample-logs"), &copy);
    let state = dir.join("s.state");
    let s = state.to_str().unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    ok(&[
        "analyze",
        "--quiet",
        "--state",
        s,
        "--out",
        a.to_str().unwrap(),
        "sample-logs",
    ]);
    ok(&[
        "analyze",
        "--quiet",
        "--state",
        s,
        "--out",
        b.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    let r = report(&b);
    assert_eq!(r["summary"]["records"], 0, "the copy was counted again");
    assert_eq!(blocklist(&a), blocklist(&b));
    assert!(!blocklist(&b).contains("198.18.7.7"));

    // Standard input: two different files piped in turn are both counted; the same bytes
    // piped again count nothing.
    let stdin_state = dir.join("stdin.state");
    let ss = stdin_state.to_str().unwrap().to_string();
    let piped = |file: &str, out: &Path| -> u64 {
        let input = std::fs::File::open(root().join(file)).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_floodgate"))
            .args([
                "analyze",
                "--quiet",
                "--state",
                &ss,
                "--out",
                out.to_str().unwrap(),
                "-",
            ])
            .current_dir(root())
            .stdin(input)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        report(out)["summary"]["records"].as_u64().unwrap()
    };
    let cf = "sample-logs/cloudfront";
    let first = format!("{cf}/E2FLOODGATE0001.2026-11-02-08.236575d9.gz");
    let second = format!("{cf}/E2FLOODGATE0001.2026-11-02-09.5dfc0e70.gz");
    assert!(piped(&first, &dir.join("p1")) > 0);
    assert!(
        piped(&second, &dir.join("p2")) > 0,
        "stdin was taken as already counted"
    );
    assert_eq!(
        piped(&second, &dir.join("p3")),
        0,
        "the same bytes counted twice"
    );
}

/// Item 9: the per-format summary rows stay in line when a format name is longer than the
/// others (`cloudfront-json`).
#[test]
fn the_summary_rows_line_up_for_every_format() {
    let dir = tmp("rows");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("cf.json"),
        r#"{"timestamp(ms)":"1793613000000","c-ip":"192.0.2.1","cs-method":"GET","cs-uri-stem":"/","sc-status":"200"}"#.to_string() + "\n",
    )
    .unwrap();
    std::fs::write(
        logs.join("waf.log"),
        r#"{"timestamp":1793613000000,"action":"ALLOW","httpRequest":{"clientIp":"192.0.2.2","uri":"/","httpMethod":"GET"}}"#.to_string() + "\n",
    )
    .unwrap();
    let out = dir.join("out");
    let text = ok(&[
        "analyze",
        "--out",
        out.to_str().unwrap(),
        logs.to_str().unwrap(),
    ]);
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" files ") && l.starts_with("  "))
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    let at: Vec<usize> = rows.iter().map(|r| r.find(" files ").unwrap()).collect();
    assert_eq!(at[0], at[1], "{text}");
}

/// Item 2: the state records the configuration it was decided with, and `report` and
/// `explain` of that state use it without `--config` (before: the built-in one, so fewer
/// entries and NOT BANNED for a banned address); a different `--config` is said.
#[test]
fn report_and_explain_decide_with_the_configuration_of_the_state() {
    let dir = tmp("state-config");
    let config = dir.join("c50.toml");
    std::fs::write(
        &config,
        "[[rules]]\nname = \"flood\"\nwindow = \"5m\"\nlimit = 50\n",
    )
    .unwrap();
    let state = dir.join("s.state");
    let (c, s) = (config.to_str().unwrap(), state.to_str().unwrap());
    let (a, b, d) = (dir.join("a"), dir.join("b"), dir.join("default"));
    ok(&[
        "analyze",
        "--quiet",
        "--config",
        c,
        "--state",
        s,
        "--out",
        a.to_str().unwrap(),
        "sample-logs",
    ]);
    ok(&[
        "analyze",
        "--quiet",
        "--out",
        d.to_str().unwrap(),
        "sample-logs",
    ]);
    ok(&["report", "--state", s, "--out", b.to_str().unwrap()]);
    assert_eq!(
        blocklist(&a),
        blocklist(&b),
        "report decided with another configuration"
    );
    assert_ne!(
        blocklist(&a),
        blocklist(&d),
        "the test needs a configuration that bans more"
    );
    let only_c50 = blocklist(&a)
        .lines()
        .find(|l| !blocklist(&d).contains(l))
        .unwrap()
        .trim_end_matches("/32")
        .to_string();
    let text = ok(&["explain", &only_c50, "--state", s]);
    assert!(text.contains("BANNED until"), "{text}");
    // --config wins, and says it differs
    let other = floodgate(&[
        "report",
        "--state",
        s,
        "--out",
        b.to_str().unwrap(),
        "--config",
        "crates/floodgate-core/src/config/default-config.toml",
    ]);
    assert!(other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("differs"));
}

/// Item 10: two runs on one state file at once: the second fails at once naming the lock,
/// instead of one run's work being lost when both save.
#[test]
fn a_state_in_use_by_another_run_is_not_overwritten() {
    let dir = tmp("lock");
    let state = dir.join("s.state");
    let lock = std::fs::File::create(dir.join("s.state.lock")).unwrap();
    lock.lock().unwrap();
    let out = dir.join("out");
    let (s, o) = (state.to_str().unwrap(), out.to_str().unwrap());
    let busy = floodgate(&[
        "analyze",
        "--quiet",
        "--state",
        s,
        "--out",
        o,
        "sample-logs/cloudfront",
    ]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use by another floodgate run"));
    assert!(!state.exists());
    drop(lock);
    ok(&[
        "analyze",
        "--quiet",
        "--state",
        s,
        "--out",
        o,
        "sample-logs/cloudfront",
    ]);
    assert!(state.exists());
}

/// Item 10: `explain` of an address never seen says so, without talk of range shares.
#[test]
fn explain_of_an_address_never_seen_is_plain() {
    let dir = tmp("unseen");
    let state = dir.join("s.state");
    let s = state.to_str().unwrap();
    ok(&[
        "analyze",
        "--quiet",
        "--state",
        s,
        "--out",
        dir.join("o").to_str().unwrap(),
        "sample-logs",
    ]);
    let text = ok(&["explain", "8.8.8.8", "--state", s]);
    assert!(text.contains("NOT BANNED"), "{text}");
    assert!(!text.contains("offender"), "{text}");
    // an address of a network with offenders still gets the range's verdict
    let near = ok(&["explain", "203.0.113.99", "--state", s]);
    assert!(near.contains("203.0.113.0/24"), "{near}");
}
