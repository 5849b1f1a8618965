//! Lateness per log source, end to end through the `floodgate` binary (DESIGN: "No record that
//! AWS delivers within its documented delay is late").
//!
//! CloudFront standard logs arrive up to an hour after the WAF and ALB logs of the same minutes.
//! The bans must not depend on that, nor on how the logs are cut into runs: one run over
//! everything, day by day, hour by hour with CloudFront delivered an hour after WAF and ALB, and
//! the web ACL's and load balancer's logs first with CloudFront's after, all give the same bans,
//! and no record is late.
//!
//! The corpus is loggen's `mixed` scenario started at 23:00, so its attacks cross midnight (the
//! CloudFront scanner runs 23:30–00:15) and its days are two runs.

#[allow(dead_code)] // the helpers the corpus tests share; this file uses a few
mod common;

use common::{floodgate, report, tmp};
use floodgate_loggen::{generate, Compression, FileEntry, Manifest, Options, Scenario};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn corpus() -> &'static (PathBuf, Manifest) {
    static C: OnceLock<(PathBuf, Manifest)> = OnceLock::new();
    C.get_or_init(|| {
        let logs = tmp("lateness-corpus").join("logs");
        let opts = Options {
            scenario: Scenario::Mixed,
            seed: 7,
            start_ms: floodgate_core::timefmt::parse_rfc3339("2026-11-02T23:00:00Z").unwrap(),
            compression: Compression::Fast,
            ..Options::default()
        };
        let m = generate(&opts, &logs).unwrap();
        (logs, m)
    })
}

/// The bans of a report, as every command must tell them: entry, rule, offences, until.
fn bans(r: &Value) -> Vec<String> {
    let mut v: Vec<String> = r["bans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{} {} {} {}",
                b["cidr"], b["rule"], b["offences"], b["until"]
            )
        })
        .collect();
    v.sort();
    v
}

/// Runs `analyze` once per group of files (in order) on one state; returns the last report and
/// the late records of every run.
fn in_runs(name: &str, groups: &[Vec<String>]) -> (Value, Vec<u64>) {
    let dir = tmp(name);
    let state = dir.join("state.bin").display().to_string();
    let out = dir.join("out");
    let mut late = Vec::new();
    let mut last = Value::Null;
    for g in groups.iter().filter(|g| !g.is_empty()) {
        let mut a = vec!["analyze", "--quiet", "--state", &state];
        let out_s = out.display().to_string();
        a.extend(["--out", &out_s]);
        a.extend(g.iter().map(String::as_str));
        floodgate(&a);
        last = report(&out);
        late.push(last["summary"]["late"].as_u64().unwrap());
    }
    (last, late)
}

/// Files grouped by `when` (a sort key per file), in key order, as paths under `logs`.
fn grouped(logs: &Path, m: &Manifest, when: impl Fn(&FileEntry) -> i64) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for f in &m.files {
        groups
            .entry(when(f))
            .or_default()
            .push(logs.join(&f.path).display().to_string());
    }
    groups.into_values().collect()
}

fn is_cloudfront(f: &FileEntry) -> bool {
    f.path.contains("cloudfront")
}

/// One run over everything: the reference.
fn one_run() -> &'static Value {
    static R: OnceLock<Value> = OnceLock::new();
    R.get_or_init(|| {
        let (logs, _) = corpus();
        let (r, late) = in_runs("lateness-one", &[vec![logs.display().to_string()]]);
        assert_eq!(late, [0]);
        r
    })
}

#[test]
fn one_run_bans_every_attacker_of_the_manifest() {
    let (_, m) = corpus();
    let r = one_run();
    let want: std::collections::BTreeSet<&str> = m
        .clients
        .iter()
        .filter(|c| c.expect_ban)
        .filter_map(|c| c.ban_key.as_deref())
        .collect();
    assert_eq!(want.len(), 6, "the mixed scenario's six attackers");
    let got = bans(r);
    for key in &want {
        assert!(
            got.iter().any(|b| b.contains(key)),
            "{key} not banned: {got:?}"
        );
    }
}

#[test]
fn day_by_day_gives_the_same_bans() {
    let (logs, m) = corpus();
    let groups = grouped(logs, m, |f| f.last_time_ms / DAY);
    assert_eq!(groups.len(), 2, "the corpus crosses midnight");
    let (r, late) = in_runs("lateness-days", &groups);
    assert_eq!(late, [0, 0]);
    assert_eq!(bans(&r), bans(one_run()));
    assert_eq!(r["blocklist"], one_run()["blocklist"]);
}

#[test]
fn hour_by_hour_with_cloudfront_an_hour_after_waf_gives_the_same_bans() {
    let (logs, m) = corpus();
    let delivered = |f: &FileEntry| f.last_time_ms / HOUR + i64::from(is_cloudfront(f));
    let groups = grouped(logs, m, delivered);
    assert_eq!(groups.len(), 3);
    let (r, late) = in_runs("lateness-hours", &groups);
    assert_eq!(late, [0, 0, 0]);
    assert_eq!(bans(&r), bans(one_run()));
    assert_eq!(r["blocklist"], one_run()["blocklist"]);
}

#[test]
fn the_web_acl_and_load_balancer_first_then_cloudfront_gives_the_same_bans() {
    let (logs, m) = corpus();
    let groups = grouped(logs, m, |f| i64::from(is_cloudfront(f)));
    let (r, late) = in_runs("lateness-cf-after", &groups);
    assert_eq!(late, [0, 0]);
    assert_eq!(bans(&r), bans(one_run()));
    assert_eq!(r["blocklist"], one_run()["blocklist"]);
}

/// The issue's own commands on the committed sample logs: `analyze sample-logs/AWSLogs --state s`
/// then `analyze sample-logs/cloudfront --state s` bans what one run bans, nothing late.
#[test]
fn the_sample_logs_with_cloudfront_analyzed_after_give_the_same_bans() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let (one, _) = in_runs("lateness-sample-one", &[vec![root.display().to_string()]]);
    let (two, late) = in_runs(
        "lateness-sample-two",
        &[
            vec![root.join("AWSLogs").display().to_string()],
            vec![root.join("cloudfront").display().to_string()],
        ],
    );
    assert_eq!(late, [0, 0]);
    assert_eq!(bans(&two), bans(&one));
    assert_eq!(bans(&one).len(), 6);
    assert_eq!(two["blocklist"], one["blocklist"]);
}
