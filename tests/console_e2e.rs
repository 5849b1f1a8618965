//! The operator's console through the `floodgate` binary: `bans`, `ban`, `unban`,
//! `completions`, `man` (issue: "The operator's console").

#[allow(dead_code)] // the helpers the corpus tests share; this file uses a few
mod common;

use common::tmp;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs")
}

/// The binary as the operator on call runs it (`ban` and `unban` record who).
fn floodgate(args: &[&str]) -> Output {
    common::run_env(args, &[("USER", "ops-on-call")])
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

fn bans_json(state: &str) -> Value {
    serde_json::from_str(&ok(&["bans", "--state", state, "--json"])).unwrap()
}

fn blocklist(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("blocklist-ipv4.txt")).unwrap()
}

/// A state over the sample logs' first hour; the second hour is the "next run".
fn first_hour(name: &str) -> (PathBuf, String, Vec<String>) {
    let dir = tmp(name);
    let state = dir.join("state.bin").display().to_string();
    let mut first = Vec::new();
    let mut second = Vec::new();
    for f in walk(&sample()) {
        let p = f.display().to_string();
        let in_first = ["/08/", "T08", "-08."].iter().any(|h| p.contains(h));
        if in_first { &mut first } else { &mut second }.push(p);
    }
    let out = dir.join("out").display().to_string();
    let mut a = vec!["analyze", "--quiet", "--state", &state, "--out", &out];
    a.extend(first.iter().map(String::as_str));
    ok(&a);
    (dir, state, second)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "gz") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn a_manual_ban_reaches_the_next_runs_blocklist_and_bans_lists_it() {
    let (dir, state, rest) = first_hour("console-ban");
    let said = ok(&[
        "ban",
        "192.0.2.99",
        "--state",
        &state,
        "--for",
        "3h",
        "--reason",
        "abuse report #12",
        "--now",
        "2026-11-02T09:00:00Z",
    ]);
    assert!(
        said.contains("banned 192.0.2.99/32 until 2026-11-02T12:00:00.000Z"),
        "{said}"
    );
    let out = dir.join("next").display().to_string();
    let mut a = vec!["analyze", "--quiet", "--state", &state, "--out", &out];
    a.extend(rest.iter().map(String::as_str));
    ok(&a);
    assert!(blocklist(Path::new(&out)).contains("192.0.2.99/32"));
    let listed = ok(&["bans", "--state", &state]);
    assert!(
        listed.contains("192.0.2.99/32") && listed.contains("manual"),
        "{listed}"
    );
    assert!(
        listed.contains("by ops-on-call") && listed.contains("abuse report #12"),
        "{listed}"
    );
    // --json: the report's ban entries, the blocklist and the manual records.
    let j = bans_json(&state);
    let ban = j["bans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["cidr"] == "192.0.2.99/32")
        .expect("the manual ban is listed");
    assert_eq!(ban["rule"], "manual");
    assert_eq!(ban["until"], "2026-11-02T12:00:00.000Z");
    assert_eq!(ban["blocked"], true);
    assert!(j["blocklist"]["ipv4"]
        .as_array()
        .unwrap()
        .contains(&Value::from("192.0.2.99/32")));
    let m = &j["manual"]["bans"][0];
    assert_eq!(
        (&m["cidr"], &m["by"], &m["reason"]),
        (
            &Value::from("192.0.2.99/32"),
            &Value::from("ops-on-call"),
            &Value::from("abuse report #12")
        )
    );
    // After its end it is gone.
    let later = ok(&[
        "bans",
        "--state",
        &state,
        "--json",
        "--now",
        "2026-11-02T12:00:01Z",
    ]);
    let later: Value = serde_json::from_str(&later).unwrap();
    assert!(!later["bans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["cidr"] == "192.0.2.99/32"));
    assert!(!later["blocklist"]["ipv4"]
        .as_array()
        .unwrap()
        .contains(&Value::from("192.0.2.99/32")));
}

#[test]
fn an_unban_survives_the_next_run_over_the_same_logs() {
    let dir = tmp("console-unban");
    let state = dir.join("state.bin").display().to_string();
    let out = dir.join("out").display().to_string();
    let logs = sample().display().to_string();
    ok(&[
        "analyze", "--quiet", "--state", &state, "--out", &out, &logs,
    ]);
    assert!(blocklist(Path::new(&out)).contains("198.51.100.7/32"));
    let said = ok(&[
        "unban",
        "198.51.100.7",
        "--state",
        &state,
        "--reason",
        "a customer",
    ]);
    assert!(said.contains("lifted 198.51.100.7/32 (errors)"), "{said}");
    // The same logs again (skipped: already counted), and a copy under another path (the
    // same content: skipped too): not banned again.
    ok(&[
        "analyze", "--quiet", "--state", &state, "--out", &out, &logs,
    ]);
    assert!(!blocklist(Path::new(&out)).contains("198.51.100.7/32"));
    let j = bans_json(&state);
    assert!(!j["bans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["cidr"] == "198.51.100.7/32"));
    assert_eq!(j["manual"]["unbans"][0]["cidr"], "198.51.100.7/32");
    assert_eq!(j["manual"]["unbans"][0]["reason"], "a customer");
    // The others stay banned.
    assert!(blocklist(Path::new(&out)).contains("192.0.2.50/32"));
    // explain says who lifted it, not "no rule's limit was exceeded".
    let e = ok(&["explain", "198.51.100.7", "--state", &state]);
    assert!(e.contains("NOT BANNED: unbanned by an operator"), "{e}");
    assert!(
        e.contains("by ops-on-call") && e.contains("a customer"),
        "{e}"
    );
    // A manual ban of a whole /24 holds every address in it.
    ok(&["ban", "192.0.2.0/24", "--state", &state, "--for", "12h"]);
    let e = ok(&["explain", "192.0.2.99", "--state", &state]);
    assert!(
        e.contains("BANNED until") && e.contains("rule manual"),
        "{e}"
    );
    assert!(e.contains("manual ban of 192.0.2.0/24"), "{e}");
}

#[test]
fn ban_refuses_the_allowlist_and_bad_input() {
    let dir = tmp("console-refuse");
    let state = dir.join("state.bin").display().to_string();
    let e = floodgate(&["ban", "10.0.1.10", "--state", &state, "--for", "1h"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("allowlist"));
    let e = floodgate(&["ban", "not-an-ip", "--state", &state, "--for", "1h"]);
    assert_eq!(e.status.code(), Some(2));
    let e = floodgate(&["ban", "192.0.2.1", "--state", &state]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("--for"));
    let e = floodgate(&["unban", "192.0.2.1", "--state", &state]);
    assert_eq!(e.status.code(), Some(2), "no state: nothing to unban");
}

#[test]
fn completions_and_the_man_page_print() {
    for shell in ["bash", "zsh", "fish"] {
        let s = ok(&["completions", shell]);
        assert!(
            s.contains("floodgate") && s.contains("unban"),
            "{shell}: {s}"
        );
    }
    let man = ok(&["man"]);
    assert!(
        man.contains(".TH floodgate") && man.contains("Exit codes"),
        "{man}"
    );
    let help = ok(&["--help"]);
    assert!(help.contains("Exit codes: 0 done"), "{help}");
    for cmd in ["bans", "ban", "unban", "completions", "man"] {
        assert!(help.contains(cmd), "--help lists {cmd}");
    }
}

#[test]
fn analyze_and_config_check_speak_json() {
    let dir = tmp("console-json");
    let out = dir.join("out").display().to_string();
    let logs = sample().display().to_string();
    let printed: Value =
        serde_json::from_str(&ok(&["analyze", "--json", "--out", &out, &logs])).unwrap();
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(printed, written, "analyze --json prints report.json");
    assert_eq!(printed["summary"]["records"], 77_552);
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[rules]]\nname = \"x\"\n").unwrap();
    let e = floodgate(&["config", "check", bad.to_str().unwrap(), "--json"]);
    assert_eq!(e.status.code(), Some(2));
    let j: Value = serde_json::from_slice(&e.stdout).unwrap();
    assert_eq!(j["ok"], false);
    assert!(j["error"].as_str().unwrap().contains("window"));
    let good = dir.join("good.toml");
    std::fs::write(&good, ok(&["config", "default"])).unwrap();
    let j: Value =
        serde_json::from_str(&ok(&["config", "check", good.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(j["ok"], true);
    assert_eq!(j["rules"][2]["name"], "login");
    assert_eq!(j["rules"][2]["window_s"], 300);
}

#[test]
fn compare_shows_the_entries_a_rule_change_adds_and_removes() {
    let dir = tmp("console-compare");
    let proposed = dir.join("proposed.toml");
    // flood 600 → 400 catches the NAT'd office (~420 per 5 min); errors 100 → 200 lets the
    // scanner (153) go.
    let text = ok(&["config", "default"])
        .replace("limit = 600", "limit = 400")
        .replace("limit = 100", "limit = 200");
    std::fs::write(&proposed, text).unwrap();
    let logs = sample().display().to_string();
    let p = proposed.display().to_string();
    let said = ok(&["compare", "--config", &p, &logs]);
    assert!(said.contains("1 added, 1 removed"), "{said}");
    assert!(
        said.contains("+ 198.18.7.7/32") && said.contains("- 198.51.100.7/32"),
        "{said}"
    );
    let j: Value =
        serde_json::from_str(&ok(&["compare", "--config", &p, "--json", &logs])).unwrap();
    assert_eq!(j["added"][0]["cidr"], "198.18.7.7/32");
    assert_eq!(j["added"][0]["rule"], "flood");
    assert_eq!(j["removed"][0]["cidr"], "198.51.100.7/32");
    assert_eq!(j["removed"][0]["rule"], "errors");
    assert_eq!(j["current"]["entries"], 5);
    // Against itself: nothing changes.
    let same = ok(&["compare", "--config", &p, "--against", &p, &logs]);
    assert!(same.contains("0 added, 0 removed"), "{same}");
}

#[test]
fn near_misses_name_the_clients_close_to_a_limit() {
    let dir = tmp("console-near");
    let out = dir.join("out").display().to_string();
    let logs = sample().display().to_string();
    let said = ok(&["analyze", "--near-misses", "--out", &out, &logs]);
    // The NAT'd office peaks at 420 of flood's 600 (70 %); every background user stays below
    // half of every limit by construction, and offenders are not near misses.
    assert!(said.contains("near misses: 1 client(s)"), "{said}");
    assert!(
        said.contains("198.18.7.7/32") && said.contains("420/600"),
        "{said}"
    );
    let r: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/report.json")).unwrap()).unwrap();
    assert_eq!(r["near_misses"].as_array().unwrap().len(), 1);
    assert_eq!(r["near_misses"][0]["cidr"], "198.18.7.7/32");
    assert_eq!(r["near_misses"][0]["rule"], "flood");
    assert_eq!(r["near_misses"][0]["peak"], 420);
    let md = std::fs::read_to_string(dir.join("out/report.md")).unwrap();
    assert!(md.contains("## Near misses") && md.contains("198.18.7.7/32"));
    let html = std::fs::read_to_string(dir.join("out/report.html")).unwrap();
    assert!(html.contains("id=\"near-misses\"") && html.contains("198.18.7.7/32"));
}

#[test]
fn analyze_follow_keeps_watching_a_folder_and_bans_what_arrives() {
    let dir = tmp("console-follow");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let (state, out) = (dir.join("state.bin"), dir.join("out"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .args(["analyze", "--quiet", "--follow", "1s", "--state"])
        .arg(&state)
        .arg("--out")
        .arg(&out)
        .arg(&logs)
        .spawn()
        .unwrap();
    // An empty folder is "nothing to read yet", not the end.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert!(child.try_wait().unwrap().is_none(), "still watching");
    // The WAF files of the flood (08:20–08:23) arrive.
    let waf =
        sample().join("AWSLogs/123456789012/WAFLogs/us-east-1/floodgate-demo-acl/2026/11/02/08/20");
    for f in walk(&waf) {
        std::fs::copy(&f, logs.join(f.file_name().unwrap())).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let banned = loop {
        let list = std::fs::read_to_string(out.join("blocklist-ipv4.txt")).unwrap_or_default();
        if list.contains("203.0.113.12/32") || std::time::Instant::now() > deadline {
            break list;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(banned.contains("203.0.113.12/32"), "{banned}");
    assert!(alive, "still watching after the run");
}
