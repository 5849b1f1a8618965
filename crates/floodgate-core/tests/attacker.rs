//! What an attacker who only sends HTTP requests can try (issue "the attack cannot switch
//! floodgate off"), each at the size the review measured, through the same path the CLI and
//! the Lambda take: log bytes → `pipeline::read_object` → `engine::run`.
//!
//! docs/reliability.md has the table of attempts, each naming its test here.

use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::pipeline::read_object;
use floodgate_core::state::State;
use floodgate_core::{FileSummary, RejectReason};
use std::fmt::Write;

const T: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

/// One WAF record.
fn waf(ip: &str, t: i64, method: &str, uri: &str) -> String {
    format!(
        r#"{{"timestamp":{t},"action":"ALLOW","httpRequest":{{"clientIp":"{ip}","uri":"{uri}","httpMethod":"{method}"}}}}"#
    ) + "\n"
}

/// Read `files` into one run against `state` and decide at `now` (default: the watermark).
fn run(
    config: &Config,
    state: &mut State,
    files: &[(&str, &str)],
    now: Option<i64>,
) -> (Decision, Vec<FileSummary>) {
    let mut input = RunInput::new(config, state);
    let mut sums = Vec::new();
    for (name, data) in files {
        let (s, tally) =
            read_object(config, state.settled_bucket, name, data.as_bytes()).expect("readable");
        sums.push(s.clone());
        input.add(name.to_string(), s, tally);
    }
    (engine::run(config, state, input, now, false).unwrap(), sums)
}

fn is_blocked(d: &Decision, cidr: &str) -> bool {
    d.blocklist.all().any(|c| c == cidr)
}

/// Item 5: 24 login attempts spelled six ways, against the default `login` rule
/// (`paths = ["/login", …]`, more than 20 POSTs in 5 minutes).
#[test]
fn spelling_the_login_path_differently_does_not_dodge_the_rule() {
    let config = Config::default();
    let spellings = [
        "/login/", "/Login", "//login", "/login;x", "/%6Cogin", "/./login",
    ];
    let mut log = String::new();
    for i in 0..24 {
        log += &waf(
            "203.0.113.5",
            T + i * 1000,
            "POST",
            spellings[i as usize % 6],
        );
    }
    let (d, sums) = run(&config, &mut State::default(), &[("a.log", &log)], None);
    assert_eq!(sums[0].records, 24);
    let ban = d
        .bans
        .iter()
        .find(|b| b.cidr.to_string() == "203.0.113.5/32");
    assert_eq!(ban.map(|b| b.rule.as_str()), Some("login"), "{:#?}", d.bans);
    assert!(is_blocked(&d, "203.0.113.5/32"));
}

/// Item 4: one record dated 2074, read first, cannot make the flood after it late (with a
/// state) or move the decision time to 2074 (without one).
#[test]
fn a_record_from_the_future_is_rejected_and_moves_nothing() {
    let mut config = Config::default();
    let wall = T + 3_600_000;
    config.source.wall_clock_ms = Some(wall);
    let future = waf("198.51.100.99", 3_300_000_000_000, "GET", "/"); // 2074-07-29
    let mut flood = String::new();
    for i in 0..700 {
        writeln!(
            flood,
            "{}",
            waf("203.0.113.9", T + i * 100, "GET", "/").trim_end()
        )
        .unwrap();
    }
    // With a state: the future record's run first, then the flood.
    let mut state = State::default();
    let (d1, s1) = run(&config, &mut state, &[("future.log", &future)], None);
    assert_eq!(s1[0].records, 0);
    assert_eq!(
        s1[0].rejected.counts.get(&RejectReason::FutureTime),
        Some(&1)
    );
    assert!(d1.bans.is_empty());
    let (d2, s2) = run(&config, &mut state, &[("flood.log", &flood)], None);
    assert_eq!(s2[0].records, 700);
    assert!(is_blocked(&d2, "203.0.113.9/32"), "{:#?}", d2.bans);
    assert!(d2.now_ms < wall, "decided at {}", d2.now_ms);
    // Without a state: one run over both, decided at the flood's time, not in 2074.
    let (d, _) = run(
        &config,
        &mut State::default(),
        &[("future.log", &future), ("flood.log", &flood)],
        None,
    );
    assert!(is_blocked(&d, "203.0.113.9/32"));
    assert_eq!(d.now_ms, T + 699 * 100);
    // A record within the tolerance of the wall clock still counts.
    let (_, s) = run(
        &config,
        &mut State::default(),
        &[("skew.log", &waf("198.51.100.1", wall + 60_000, "GET", "/"))],
        None,
    );
    assert_eq!(s[0].records, 1);
}

/// A WAF record with X-Forwarded-For headers, in order.
fn waf_xff(peer: &str, t: i64, method: &str, uri: &str, xff: &[&str]) -> String {
    let headers: Vec<String> = xff
        .iter()
        .map(|v| format!(r#"{{"name":"X-Forwarded-For","value":"{v}"}}"#))
        .collect();
    format!(
        r#"{{"timestamp":{t},"action":"ALLOW","httpRequest":{{"clientIp":"{peer}","uri":"{uri}","httpMethod":"{method}","headers":[{}]}}}}"#,
        headers.join(",")
    ) + "\n"
}

/// Item 3: one attacker frames 1,000 chosen addresses (four /24s, which would also be range
/// bans) with 21 login POSTs each, 21,000 requests per route: straight to the ALB with a
/// forged header, through CloudFront with a second header, and in CloudFront's own log with
/// the `x-forwarded-for` the viewer wrote. With `proxies = ["cloudfront"]` no victim is
/// counted, and the sender is banned.
#[test]
fn a_forged_x_forwarded_for_frames_nobody() {
    let config = Config::from_toml(&format!(
        "{}\n[source]\nclient_ip = \"x-forwarded-for\"\nproxies = [\"cloudfront\"]\n",
        "[[rules]]\nname = \"login\"\nwindow = \"5m\"\nlimit = 20\nmethods = [\"POST\"]\npaths = [\"/login\"]"
    ))
    .unwrap();
    let attacker = "203.0.113.66";
    let edge = "130.176.0.5"; // a CloudFront origin-facing address
    let victims: Vec<String> = (0..1000)
        .map(|i| format!("198.18.{}.{}", i / 250, i % 250 + 1))
        .collect();
    let (mut direct, mut two_headers, mut cloudfront) =
        (String::new(), String::new(), String::new());
    let mut t = T;
    for round in 0..21 {
        for v in &victims {
            t += 10;
            direct += &waf_xff(attacker, t, "POST", "/login", &[v]);
            two_headers += &waf_xff(edge, t, "POST", "/login", &[v, attacker]);
            writeln!(
                cloudfront,
                r#"{{"timestamp(ms)":"{t}","c-ip":"{attacker}","cs-method":"POST","cs-uri-stem":"/login","sc-status":"200","x-forwarded-for":"{v}"}}"#
            )
            .unwrap();
        }
        let _ = round;
    }
    for (name, log) in [
        ("direct.log", &direct),
        ("two-headers.log", &two_headers),
        ("cloudfront.log", &cloudfront),
    ] {
        let (d, sums) = run(&config, &mut State::default(), &[(name, log)], None);
        assert_eq!(sums[0].records, 21_000, "{name}: {:?}", sums[0].rejected);
        let banned: Vec<String> = d.bans.iter().map(|b| b.cidr.to_string()).collect();
        assert_eq!(banned, vec![format!("{attacker}/32")], "{name}");
        assert!(d.ranges.is_empty(), "{name}");
        assert!(is_blocked(&d, &format!("{attacker}/32")), "{name}");
    }
    // The same traffic under the old setting (`trusted_proxies` alone) frames every victim:
    // the reason `proxies` exists (and what docs/configuration.md warns about).
    let old = Config::from_toml(
        "[[rules]]\nname = \"login\"\nwindow = \"5m\"\nlimit = 20\nmethods = [\"POST\"]\npaths = [\"/login\"]\n[source]\nclient_ip = \"x-forwarded-for\"\n",
    )
    .unwrap();
    let (d, _) = run(
        &old,
        &mut State::default(),
        &[("direct.log", &direct)],
        None,
    );
    assert_eq!(d.bans.len(), 1000);
}
