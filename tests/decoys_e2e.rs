//! End-to-end under an attack shaped by someone who has read floodgate's docs: loggen's
//! `decoys` scenario at its default size, over ordinary users active from the start of the run,
//! through the `floodgate` binary with the built-in configuration.
//!
//! 150 credential stuffers (one IPv4 address per /24, ~25 `POST /login` each, 30 of them
//! spelling the path `/Login`, `//login`, `/login;x`, `/%6Cogin`, `/login/`, `/./login`) hide
//! behind decoys meant to make the `login` rule look broken: 3,000 IPv6 /64s of one /48 just
//! over the limit, with 400 quiet /64s keeping that /48's share under `ranges.min_share`, and
//! 300 /64s of a second /48 aged by one request 20 minutes before the attack.
//!
//! The guardrail must not trip, nothing is held back, every stuffer is blocked, both decoy
//! /48s are banned whole (`ipv6_many_offenders`), no ordinary client is blocked; the files
//! before the attack and the rest, analyzed in two `--state` runs, give the same blocklist.

mod common;

use common::{blocked_ranges, blocklist, covered, floodgate, report, tmp};
use floodgate_loggen::{
    generate, Compression, DecoysOptions, Manifest, Options, Scenario, DEFAULT_START_MS,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

/// The corpus (generated once per test process): the scenario's defaults, fast gzip.
fn corpus() -> &'static (PathBuf, Manifest) {
    static C: OnceLock<(PathBuf, Manifest)> = OnceLock::new();
    C.get_or_init(|| {
        let logs = tmp("decoys-corpus").join("logs");
        let opts = Options {
            scenario: Scenario::Decoys,
            compression: Compression::Fast,
            ..Options::default()
        };
        let started = Instant::now();
        let m = generate(&opts, &logs).unwrap();
        let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
        eprintln!(
            "decoys corpus: {} files, {} records, {:.1} MB plain, generated in {:.1}s",
            m.files.len(),
            m.totals.records,
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
        (logs, m)
    })
}

/// When the attack starts: nothing before it but ordinary users and the aged decoys' first
/// request.
fn attack_start_ms() -> i64 {
    DEFAULT_START_MS + DecoysOptions::default().attack_start_ms
}

/// `floodgate analyze --quiet [extra…] --out OUT INPUTS…`, timed.
fn analyze(out: &Path, extra: &[String], inputs: &[String]) -> Value {
    let mut a = vec!["analyze".to_string(), "--quiet".into()];
    a.extend(extra.iter().cloned());
    a.extend(["--out".into(), out.display().to_string()]);
    a.extend(inputs.iter().cloned());
    let started = Instant::now();
    floodgate(&a.iter().map(String::as_str).collect::<Vec<_>>());
    eprintln!(
        "analyze {} input(s) in {:.1}s",
        inputs.len(),
        started.elapsed().as_secs_f64()
    );
    report(out)
}

/// One run over the whole corpus with the built-in configuration.
fn one_run() -> &'static Value {
    static R: OnceLock<Value> = OnceLock::new();
    R.get_or_init(|| {
        let (logs, _) = corpus();
        analyze(&tmp("decoys-one"), &[], &[logs.display().to_string()])
    })
}

/// The checks every decision over the whole corpus must pass.
fn check_decision(r: &Value, m: &Manifest) {
    assert_eq!(
        r["guardrail"],
        serde_json::json!([]),
        "decoys must not make the login rule look broken"
    );
    let held: Vec<&Value> = r["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["reason"] == "guardrail")
        .collect();
    assert!(held.is_empty(), "held back by the guardrail: {held:?}");
    assert_eq!(r["dropped"], serde_json::json!([]), "nothing left out");

    let list = blocklist(r);
    let bans: BTreeMap<&str, &Value> = r["bans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["cidr"].as_str().unwrap(), b))
        .collect();
    let mut by_scenario: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for c in &m.clients {
        let ip: IpAddr = c.ip.parse().unwrap();
        let blocked = covered(&list, ip);
        let n = by_scenario.entry(c.scenario.as_str()).or_default();
        n.0 += 1;
        n.1 += u64::from(blocked);
        match c.scenario.as_str() {
            "background" => assert!(!blocked, "ordinary client {} is blocked", c.ip),
            "credential-stuffer" | "decoy" | "decoy-aged" => {
                assert!(c.expect_ban, "{} {}", c.scenario, c.ip);
                assert!(blocked, "{} {} is not blocked", c.scenario, c.ip);
                let key = c.ban_key.as_deref().unwrap();
                let ban = bans.get(key).unwrap_or_else(|| panic!("no ban for {key}"));
                assert_eq!(ban["rule"], "login", "{key}");
            }
            // Under every limit; blocked only as part of its /48's range ban (checked below).
            "decoy-quiet" => assert!(!c.expect_ban, "{}", c.ip),
            s => panic!("unexpected scenario {s}"),
        }
    }
    let count = |s: &str| by_scenario.get(s).copied().unwrap_or_default();
    assert_eq!(count("credential-stuffer"), (150, 150));
    assert_eq!(count("decoy"), (3_000, 3_000));
    assert_eq!(count("decoy-aged"), (300, 300));
    assert_eq!(
        count("decoy-quiet"),
        (400, 400),
        "inside the /48 banned whole"
    );
    assert!(count("background").0 > 1_000, "{by_scenario:?}");

    // The stuffers are single entries (one per /24); each decoy /48 is one range entry.
    let mut ranges = blocked_ranges(r);
    ranges.sort_unstable();
    let expected: Vec<&str> = m
        .networks
        .iter()
        .filter(|n| n.expect_range_ban)
        .map(|n| n.cidr.as_str())
        .collect();
    assert_eq!(expected.len(), 2, "{:?}", m.networks);
    assert_eq!(ranges, expected, "ranges banned whole");
    let mut v6: Vec<&str> = r["blocklist"]["ipv6"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    v6.sort_unstable();
    assert_eq!(v6, expected, "the IPv6 blocklist is the two /48s");
    assert_eq!(r["blocklist"]["ipv4"].as_array().unwrap().len(), 150);
    assert_eq!(r["attack"]["coverage"], 1.0);
}

#[test]
fn decoys_do_not_stop_real_attackers() {
    let (_, m) = corpus();
    let r = one_run();
    check_decision(r, m);
    eprintln!(
        "one run: {} clients in the manifest, {} offenders, blocklist {} IPv4 + {} IPv6, {} range(s), guardrail {}",
        m.clients.len(),
        r["attack"]["offenders"],
        r["blocklist"]["ipv4"].as_array().unwrap().len(),
        r["blocklist"]["ipv6"].as_array().unwrap().len(),
        r["ranges"].as_array().unwrap().len(),
        r["guardrail"]
    );
}

#[test]
fn before_and_after_the_attack_in_two_state_runs_give_the_same_blocklist() {
    let (logs, m) = corpus();
    let work = tmp("decoys-split");
    let state = [
        "--state".to_string(),
        work.join("state.bin").display().to_string(),
    ];
    let (before, after): (Vec<_>, Vec<_>) = m
        .files
        .iter()
        .partition(|f| f.last_time_ms < attack_start_ms());
    let paths = |v: Vec<&floodgate_loggen::FileEntry>| -> Vec<String> {
        v.iter()
            .map(|f| logs.join(&f.path).display().to_string())
            .collect()
    };
    let (before, after) = (paths(before), paths(after));
    assert!(
        before.len() >= 10 && after.len() >= 10,
        "{before:?} {after:?}"
    );

    // Only the ordinary audience and the aged decoys' first requests: nothing to ban yet.
    let r0 = analyze(&work.join("before"), &state, &before);
    assert_eq!(r0["bans"], serde_json::json!([]));
    assert_eq!(r0["guardrail"], serde_json::json!([]));

    // The attack, on top of the history the first run left in the state.
    let r1 = analyze(&work.join("after"), &state, &after);
    check_decision(&r1, m);
    assert_eq!(r1["blocklist"], one_run()["blocklist"]);
}
