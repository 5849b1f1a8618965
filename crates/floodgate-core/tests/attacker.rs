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
