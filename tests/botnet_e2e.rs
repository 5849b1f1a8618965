//! End-to-end under a distributed flood: loggen's `botnet` scenario (attackers packed into
//! rented /24s and /48s, scattered one per network, hidden in carrier NATs among ordinary
//! people, on top of a crowd of ordinary clients) through the `floodgate` binary with the
//! default configuration and a flood rule of 50 requests per 5 minutes.
//!
//! The blocklist must cover every attacker, block no ordinary client, ban every rented range
//! whole and no carrier NAT; the same holds for `--jobs 1` and for the files split over two
//! `--state` runs; the reports stay readable (HTML ≤ 5 MB, Markdown within a GitHub comment);
//! `explain` says which range holds an address, and why a carrier NAT was not banned whole.

mod common;

use common::{blocked_ranges, blocklist, covered, floodgate, report, tmp};
use floodgate_loggen::{generate, BotnetOptions, Compression, Format, Manifest, Options, Scenario};
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CONFIG: &str = "[[rules]]\nname = \"flood\"\nwindow = \"5m\"\nlimit = 50\n";

/// The corpus (generated once per test process) and its config file.
fn corpus() -> &'static (PathBuf, PathBuf, Manifest) {
    static C: OnceLock<(PathBuf, PathBuf, Manifest)> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tmp("botnet-corpus");
        let logs = dir.join("logs");
        let opts = Options {
            scenario: Scenario::Botnet,
            formats: vec![Format::Waf],
            duration_ms: 60 * 60_000,
            compression: Compression::Fast,
            flood_limit: 50,
            botnet: BotnetOptions {
                attackers: 2_000,
                ordinary: 10_000,
                ..BotnetOptions::default()
            },
            ..Options::default()
        };
        let m = generate(&opts, &logs).unwrap();
        let config = dir.join("floodgate.toml");
        std::fs::write(&config, CONFIG).unwrap();
        (logs, config, m)
    })
}

/// The checks every decision over the corpus must pass.
fn check_decision(r: &Value, m: &Manifest) {
    let list = blocklist(r);
    let rented: Vec<IpNet> = m
        .networks
        .iter()
        .filter(|n| n.kind == "rented")
        .map(|n| n.cidr.parse().unwrap())
        .collect();
    let (mut attackers, mut ordinary) = (0, 0);
    for c in &m.clients {
        let ip: IpAddr = c.ip.parse().unwrap();
        if c.expect_ban {
            attackers += 1;
            assert!(covered(&list, ip), "attacker {} is not blocked", c.ip);
        } else {
            ordinary += 1;
            assert!(
                !covered(&list, ip) || covered(&rented, ip),
                "ordinary client {} ({}) is blocked",
                c.ip,
                c.scenario
            );
        }
    }
    assert_eq!(attackers, 2_000);
    assert!(ordinary > 10_000, "{ordinary}");
    let ranges = blocked_ranges(r);
    for n in &m.networks {
        assert_eq!(
            ranges.contains(&n.cidr.as_str()),
            n.expect_range_ban,
            "{} ({}) banned whole: {}",
            n.cidr,
            n.kind,
            !n.expect_range_ban
        );
    }
    assert_eq!(
        ranges.len(),
        m.networks.iter().filter(|n| n.expect_range_ban).count()
    );
    assert_eq!(
        r["guardrail"],
        serde_json::json!([]),
        "the attack is not a broken rule"
    );
    assert_eq!(r["dropped"], serde_json::json!([]), "nothing held back");
    assert_eq!(r["attack"]["coverage"], 1.0);
}

#[test]
fn the_flood_is_blocked_in_full_and_no_ordinary_client_is() {
    let (logs, config, m) = corpus();
    let out = tmp("botnet-one");
    let args = |o: &Path| {
        vec![
            "analyze".to_string(),
            "--quiet".into(),
            "--config".into(),
            config.display().to_string(),
            "--out".into(),
            o.display().to_string(),
            logs.display().to_string(),
        ]
    };
    let a = args(&out);
    floodgate(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let r = report(&out);
    check_decision(&r, m);

    // Readable at this size: the HTML page a few MB at most, the Markdown within a comment.
    let html = std::fs::metadata(out.join("report.html")).unwrap().len();
    assert!(html <= 5_000_000, "report.html is {html} bytes");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.chars().count() <= 65_536,
        "report.md is {} chars",
        md.chars().count()
    );
    assert!(md.contains("## Range bans"));
    // report.json and the blocklist files stay complete.
    assert_eq!(r["bans"].as_array().unwrap().len(), 2_000);
    let v4 = std::fs::read_to_string(out.join("blocklist-ipv4.txt")).unwrap();
    assert_eq!(
        v4.lines().count(),
        r["blocklist"]["ipv4"].as_array().unwrap().len()
    );

    // --jobs 1 gives the same report.
    let one = tmp("botnet-jobs1");
    let mut a = args(&one);
    a.insert(1, "--jobs=1".into());
    floodgate(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        std::fs::read(one.join("report.json")).unwrap(),
        std::fs::read(out.join("report.json")).unwrap()
    );
}

#[test]
fn two_state_runs_decide_what_one_run_decides() {
    let (logs, config, m) = corpus();
    let work = tmp("botnet-split");
    let state = work.join("state.bin");
    let mut files: Vec<String> = m
        .files
        .iter()
        .map(|f| logs.join(&f.path).display().to_string())
        .collect();
    files.sort();
    // Later half first: files arrive in any order.
    let (early, late) = files.split_at(files.len() / 2);
    for (i, part) in [late, early].iter().enumerate() {
        let out = work.join(format!("run{i}"));
        let mut a = vec![
            "analyze".to_string(),
            "--quiet".into(),
            "--config".into(),
            config.display().to_string(),
            "--state".into(),
            state.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--now".into(),
            "2026-11-02T09:00:00Z".into(),
        ];
        a.extend(part.iter().cloned());
        floodgate(&a.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let r = report(&work.join("run1"));
    check_decision(&r, m);
}

#[test]
fn explain_names_the_range_or_why_a_carrier_nat_is_not_banned_whole() {
    let (logs, config, m) = corpus();
    let work = tmp("botnet-explain");
    let state = work.join("state.bin").display().to_string();
    let cfg = config.display().to_string();
    let out = work.join("out").display().to_string();
    let logs = logs.display().to_string();
    floodgate(&[
        "analyze", "--quiet", "--config", &cfg, "--state", &state, "--out", &out, &logs,
    ]);
    let rented = m
        .networks
        .iter()
        .find(|n| n.kind == "rented" && n.cidr.contains('.'))
        .unwrap();
    let nat = m.networks.iter().find(|n| n.kind == "carrier-nat").unwrap();
    let net = |cidr: &str| -> IpNet { cidr.parse().unwrap() };
    let in_net = |cidr: &str, scenario: &str| {
        m.clients
            .iter()
            .find(|c| {
                c.scenario == scenario && net(cidr).contains(&c.ip.parse::<IpAddr>().unwrap())
            })
            .unwrap()
            .ip
            .clone()
    };
    let explain = |ip: &str| floodgate(&["explain", ip, "--state", &state, "--config", &cfg]);
    let attacker = in_net(&rented.cidr, "botnet");
    let text = explain(&attacker);
    assert!(
        text.contains(&format!("part of the range {}", rented.cidr)),
        "{text}"
    );
    assert!(
        text.contains("banned whole") && text.contains("offenders of"),
        "{text}"
    );
    let hidden = in_net(&nat.cidr, "botnet");
    let text = explain(&hidden);
    assert!(text.contains("BANNED until"), "{text}");
    assert!(
        text.contains("not banned whole") && text.contains("ordinary clients are a real share"),
        "{text}"
    );
    let neighbour = in_net(&nat.cidr, "carrier-nat");
    let text = explain(&neighbour);
    assert!(text.contains("NOT BANNED"), "{text}");
}
