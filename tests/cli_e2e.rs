//! End-to-end: the `floodgate` binary over the committed sample logs, checked against the
//! loggen manifest (ground truth), and the guarantees the CLI makes: same output for any
//! `--jobs` and file order, incremental `--state` runs equal one run, `--dry-run` writes no
//! state, exit codes.

#[allow(dead_code)] // the helpers the corpus tests share; this file uses a few
mod common;

use common::{ok, root, run as floodgate};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn samples() -> PathBuf {
    root().join("sample-logs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floodgate-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn manifest() -> Value {
    read_json(&samples().join("manifest.json"))
}

/// All log files of the sample corpus, as paths relative to the repository root.
fn sample_files() -> Vec<String> {
    manifest()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("sample-logs/{}", f["path"].as_str().unwrap()))
        .collect()
}

/// The ban keys the manifest's ground truth expects.
fn expected_bans(m: &Value) -> BTreeSet<String> {
    m["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expect_ban"] == true)
        .map(|c| c["ban_key"].as_str().unwrap().to_string())
        .collect()
}

/// The CIDRs of the report's bans that are in the blocklist.
fn blocked(r: &Value) -> BTreeSet<String> {
    r["bans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["blocked"] == true)
        .map(|b| b["cidr"].as_str().unwrap().to_string())
        .collect()
}

fn analyze(out: &Path, extra: &[&str]) -> Value {
    let out_s = out.to_str().unwrap();
    let mut args = vec!["analyze", "--quiet", "--out", out_s];
    args.extend_from_slice(extra);
    if !extra.iter().any(|a| a.starts_with("sample-logs")) {
        args.push("sample-logs");
    }
    ok(&args);
    read_json(&out.join("report.json"))
}

#[test]
fn counts_match_the_manifest() {
    let m = manifest();
    let out = tmp("counts");
    let r = analyze(&out, &[]);
    assert_eq!(r["schema"], "floodgate-report/2");
    assert_eq!(r["summary"]["records"], m["totals"]["records"]);
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), m["files"].as_array().unwrap().len());
    let mut bad_total = 0;
    for mf in m["files"].as_array().unwrap() {
        let path = format!("sample-logs/{}", mf["path"].as_str().unwrap());
        let f = files
            .iter()
            .find(|f| f["path"] == path.as_str())
            .unwrap_or_else(|| panic!("{path} missing"));
        assert_eq!(f["records"], mf["records"], "{path}");
        assert_eq!(f["format"], mf["format"], "{path}");
        assert_eq!(f["complete"], true);
        let bad: u64 = mf["bad_lines"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(f["rejected"].as_u64().unwrap(), bad, "{path}");
        bad_total += bad;
    }
    assert_eq!(r["summary"]["rejected"].as_u64().unwrap(), bad_total);
    assert!(bad_total > 0, "the samples carry bad lines on purpose");
}

#[test]
fn blocklist_is_exactly_the_attackers_that_exceed_the_default_limits() {
    let m = manifest();
    let out = tmp("blocklist");
    let r = analyze(&out, &[]);
    let expected: BTreeSet<String> = expected_bans(&m);
    let banned: BTreeSet<String> = blocked(&r);
    assert_eq!(banned, expected);
    assert!(expected.len() >= 5);
    // no background user, NAT office or allowlisted checker anywhere in the bans
    let any_ban: BTreeSet<String> = r["bans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["cidr"].as_str().unwrap().to_string())
        .collect();
    for c in m["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expect_ban"] == false)
    {
        let ip = c["ip"].as_str().unwrap();
        let key = if ip.contains(':') {
            None
        } else {
            Some(format!("{ip}/32"))
        };
        if let Some(k) = key {
            assert!(
                !any_ban.contains(&k),
                "{ip} ({}) must not be banned",
                c["scenario"]
            );
        }
    }
    // the blocklist files hold the aggregated form of the same set
    let v4 = std::fs::read_to_string(out.join("blocklist-ipv4.txt")).unwrap();
    let v6 = std::fs::read_to_string(out.join("blocklist-ipv6.txt")).unwrap();
    let lines: Vec<&str> = v4.lines().chain(v6.lines()).collect();
    assert_eq!(
        lines,
        r["blocklist"]["ipv4"]
            .as_array()
            .unwrap()
            .iter()
            .chain(r["blocklist"]["ipv6"].as_array().unwrap())
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>()
    );
    for key in &expected {
        let net: std::net::IpAddr = key.split('/').next().unwrap().parse().unwrap();
        assert!(
            lines.iter().any(|l| covers(l, net)),
            "{key} not covered by the blocklist files"
        );
    }
}

fn covers(cidr: &str, ip: std::net::IpAddr) -> bool {
    let (addr, len) = cidr.split_once('/').unwrap();
    let len: u32 = len.parse().unwrap();
    match (addr.parse::<std::net::IpAddr>().unwrap(), ip) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => {
            len == 0 || (u32::from(a) ^ u32::from(b)) >> (32 - len) == 0
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) => {
            len == 0 || (u128::from(a) ^ u128::from(b)) >> (128 - len) == 0
        }
        _ => false,
    }
}

fn outputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "report.json",
        "report.md",
        "report.html",
        "blocklist-ipv4.txt",
        "blocklist-ipv6.txt",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
    .collect()
}

#[test]
fn jobs_and_file_order_do_not_change_the_output() {
    let one = tmp("jobs1");
    let four = tmp("jobs4");
    let shuffled = tmp("shuffled");
    analyze(&one, &["--jobs", "1"]);
    analyze(&four, &["--jobs", "4"]);
    let mut files = sample_files();
    files.reverse();
    let (a, b) = files.split_at(files.len() / 3);
    let mut mixed: Vec<String> = b.to_vec();
    mixed.extend(a.iter().cloned());
    let mut args: Vec<&str> = vec!["--jobs", "3"];
    args.extend(mixed.iter().map(String::as_str));
    analyze(&shuffled, &args);
    assert_eq!(outputs(&one), outputs(&four));
    assert_eq!(outputs(&one), outputs(&shuffled));
}

/// One big object (every WAF sample concatenated: a multi-member gzip of ~21 MB, about twenty
/// chunks) read on two threads gives the reports of the one-thread read, byte for byte.
#[test]
fn one_object_on_two_threads_gives_the_same_output() {
    let dir = tmp("one-object");
    let mut waf: Vec<String> = sample_files()
        .into_iter()
        .filter(|f| f.contains("WAFLogs"))
        .collect();
    waf.sort();
    let mut all = Vec::new();
    for f in &waf {
        all.extend(std::fs::read(root().join(f)).unwrap());
    }
    let big = dir.join("all-waf.log.gz");
    std::fs::write(&big, all).unwrap();
    let big = big.to_str().unwrap();
    let (one, two) = (dir.join("jobs1"), dir.join("jobs2"));
    for (out, jobs) in [(&one, "1"), (&two, "2")] {
        ok(&[
            "analyze",
            "--quiet",
            "--jobs",
            jobs,
            "--out",
            out.to_str().unwrap(),
            big,
        ]);
    }
    let r = read_json(&one.join("report.json"));
    assert!(r["summary"]["records"].as_u64().unwrap() > 10_000, "{r}");
    assert_eq!(outputs(&one), outputs(&two));
}

fn decision_view(r: &Value) -> Vec<String> {
    r["bans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{} {} {} {} {} {}",
                b["cidr"], b["rule"], b["offences"], b["until"], b["active"], b["blocked"]
            )
        })
        .collect()
}

#[test]
fn incremental_state_runs_equal_one_run_over_everything() {
    let whole = analyze(&tmp("whole"), &[]);
    // split the corpus by time: files whose events start before 09:00 first
    let m = manifest();
    let cut = 1_793_610_000_000i64; // 2026-11-02T09:00:00Z
    let early: Vec<String> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["first_time_ms"].as_i64().unwrap() < cut)
        .map(|f| format!("sample-logs/{}", f["path"].as_str().unwrap()))
        .collect();
    assert!(!early.is_empty() && early.len() < sample_files().len());
    let dir = tmp("incremental");
    let state = dir.join("floodgate.state");
    let state_s = state.to_str().unwrap();
    let mut args = vec!["--state", state_s];
    args.extend(early.iter().map(String::as_str));
    let first = analyze(&dir.join("run1"), &args);
    assert!(state.exists());
    assert_eq!(
        first["summary"]["files"].as_u64().unwrap() as usize,
        early.len()
    );
    // the second run is given everything: the files of run 1 are skipped, not counted twice
    let second = analyze(&dir.join("run2"), &["--state", state_s]);
    assert_eq!(
        second["summary"]["skipped_files"].as_u64().unwrap() as usize,
        early.len()
    );
    assert_eq!(
        first["summary"]["records"].as_u64().unwrap()
            + second["summary"]["records"].as_u64().unwrap(),
        whole["summary"]["records"].as_u64().unwrap()
    );
    assert_eq!(second["blocklist"], whole["blocklist"]);
    assert_eq!(decision_view(&second), decision_view(&whole));
    // a third run over the same files adds nothing
    let third = analyze(&dir.join("run3"), &["--state", state_s]);
    assert_eq!(third["summary"]["records"], 0);
    assert_eq!(third["blocklist"], whole["blocklist"]);
    // `report --state` re-renders the last run's report exactly
    let rerender = dir.join("rerender");
    ok(&[
        "report",
        "--state",
        state_s,
        "--out",
        rerender.to_str().unwrap(),
    ]);
    assert_eq!(outputs(&rerender), outputs(&dir.join("run3")));
}

#[test]
fn dry_run_reports_but_writes_no_state() {
    let dir = tmp("dry");
    let state = dir.join("s.state");
    let r = analyze(
        &dir.join("out"),
        &["--dry-run", "--state", state.to_str().unwrap()],
    );
    assert_eq!(r["dry_run"], true);
    assert!(!state.exists(), "dry run must not write the state");
    assert!(
        !r["blocklist"]["ipv4"].as_array().unwrap().is_empty(),
        "it still decides"
    );
}

#[test]
fn strict_exits_3_on_rejected_lines_and_explain_says_why() {
    let dir = tmp("strict");
    let out = floodgate(&[
        "analyze",
        "--quiet",
        "--strict",
        "--out",
        dir.to_str().unwrap(),
        "sample-logs",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let state = dir.join("s.state");
    analyze(&dir, &["--state", state.to_str().unwrap()]);
    let s = state.to_str().unwrap();
    let m = manifest();
    let ip_of = |scenario: &str| {
        m["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["scenario"] == scenario)
            .unwrap()["ip"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let text = ok(&["explain", &ip_of("flood"), "--state", s]);
    assert!(
        text.contains("BANNED until") && text.contains("offence at"),
        "{text}"
    );
    let text = ok(&["explain", &ip_of("nat-office"), "--state", s]);
    assert!(
        text.contains("NOT BANNED: no rule's limit was exceeded")
            && text.contains("below the limit"),
        "{text}"
    );
    let text = ok(&["explain", &ip_of("healthcheck"), "--state", s]);
    assert!(text.contains("allowlisted by 10.0.0.0/8"), "{text}");
    let json: Value =
        serde_json::from_str(&ok(&["explain", &ip_of("scanner"), "--state", s, "--json"])).unwrap();
    assert_eq!(json["blocked"], true);
}

#[test]
fn config_commands_and_usage_errors() {
    let default = ok(&["config", "default"]);
    let dir = tmp("config");
    let good = dir.join("good.toml");
    std::fs::write(&good, &default).unwrap();
    assert!(ok(&["config", "check", good.to_str().unwrap()]).contains("ok (3 rules"));
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        default.replace("window = \"5m\"", "window = \"5 weeks\""),
    )
    .unwrap();
    let out = floodgate(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rules[0].window"));
    let out = floodgate(&["analyze", "--config", bad.to_str().unwrap(), "sample-logs"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        floodgate(&["analyze", "/nonexistent/logs"]).status.code(),
        Some(2)
    );
    assert_eq!(
        floodgate(&["analyze", "--now", "yesterday", "sample-logs"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(floodgate(&["frobnicate"]).status.code(), Some(2));
}

/// `[allow] files` are read relative to the configuration file (not the working directory):
/// an attacker listed there is never banned, the others still are; a bad line is a usage
/// error naming the file.
#[test]
fn allow_files_are_read_next_to_the_config() {
    let m = manifest();
    let attackers: BTreeSet<String> = expected_bans(&m);
    let protected = attackers.iter().find(|k| !k.contains(':')).unwrap().clone();
    let dir = tmp("allow-files");
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    std::fs::write(
        dir.join("lists/partners.txt"),
        format!("# partners\n{protected}\n"),
    )
    .unwrap();
    let config = dir.join("floodgate.toml");
    let default = ok(&["config", "default"]);
    let text = default.replace("files = []", "files = [\"lists/partners.txt\"]");
    assert_ne!(
        text, default,
        "the built-in config has an `[allow] files` line"
    );
    std::fs::write(&config, text).unwrap();
    let out = dir.join("out");
    let r = analyze(&out, &["--config", config.to_str().unwrap()]);
    let banned: BTreeSet<String> = blocked(&r);
    assert!(!banned.contains(&protected), "{protected} is allowlisted");
    let mut others = attackers.clone();
    others.remove(&protected);
    assert_eq!(banned, others);

    std::fs::write(dir.join("lists/partners.txt"), "not-a-cidr\n").unwrap();
    let bad = floodgate(&[
        "analyze",
        "--quiet",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "sample-logs",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("partners.txt") && err.contains("not-a-cidr"),
        "{err}"
    );
}
