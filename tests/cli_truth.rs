//! Every command tells the same truth (issue "nothing is silently lost"): each test runs the
//! exact commands a user ran when the problem was found, on the committed sample logs.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floodgate-truth-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn floodgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = floodgate(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn report(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

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
