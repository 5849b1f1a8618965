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
        let (s, tally) = read_object(
            config,
            &floodgate_core::lateness::LateLines::of(config, state),
            name,
            data.as_bytes(),
        )
        .expect("readable");
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

/// The map step's output built request by request (the parsers are tested elsewhere; these
/// worlds are millions of requests, too many to write as log lines in a debug test).
struct World {
    config: Config,
    tally: floodgate_core::tally::Tally,
}

impl World {
    fn new(config: Config) -> World {
        let tally = floodgate_core::tally::Tally::new(&config, 0);
        World { config, tally }
    }

    /// `n` requests from `ip`, one every `gap_ms` from `start`.
    fn send(&mut self, ip: std::net::IpAddr, start: i64, n: i64, gap_ms: i64, post_login: bool) {
        for i in 0..n {
            let mut r = floodgate_core::Request::minimal(start + i * gap_ms, ip);
            if post_login {
                r.method = "POST".into();
                r.path = "/login".into();
            } else {
                r.method = "GET".into();
                r.path = "/".into();
            }
            self.tally.observe(&self.config, &r);
        }
    }

    fn decide(self) -> Decision {
        let mut state = State::default();
        let mut input = RunInput::new(&self.config, &state);
        input.add("world".into(), FileSummary::default(), self.tally);
        engine::run(&self.config, &mut state, input, None, false).unwrap()
    }
}

fn ip(s: String) -> std::net::IpAddr {
    s.parse().unwrap()
}

/// Item 1, with the `login` rule: 2,000 ordinary clients, 150 credential stuffers (25 POST
/// /login each), and the decoys: 3,000 IPv6 /64s of ONE /48 at 21 POSTs each, plus 400 quiet
/// /64s of it so it stays under `ranges.min_share`. With and without an hour of history for
/// the ordinary clients, every stuffer is blocked and no ordinary client is.
#[test]
fn decoy_slash64s_of_one_slash48_cannot_trip_the_guardrail() {
    for history in [false, true] {
        let mut w = World::new(Config::default());
        for i in 0..2000 {
            let a = ip(format!("100.{}.{}.7", 64 + i / 256, i % 256));
            if history {
                w.send(a, T - 3_600_000, 3, 20_000, false);
            }
            w.send(a, T, 5, 20_000, false);
            w.send(a, T + 30_000, 1, 1, true);
        }
        for i in 0..150 {
            w.send(ip(format!("45.{i}.3.9")), T, 25, 4_000, true);
        }
        for j in 0..3400 {
            let decoy = ip(format!("2001:db8:dec0:{j:x}::1"));
            if j < 3000 {
                w.send(decoy, T, 21, 5_000, true);
            } else {
                w.send(decoy, T, 1, 1, false);
            }
        }
        let d = w.decide();
        assert!(d.tripped.is_empty(), "history {history}: {:?}", d.tripped);
        for i in 0..150 {
            assert!(
                is_blocked(&d, &format!("45.{i}.3.9/32")),
                "stuffer {i}, history {history}"
            );
        }
        assert!(
            d.kept
                .iter()
                .all(|k| !k.addr().to_string().starts_with("100.")),
            "an ordinary client is blocked"
        );
    }
}

/// Item 1, with the `flood` rule: 3,000 decoy /64s of one /48 at 601 GETs each in five
/// minutes, 400 quiet /64s of it, 150 real flooders at 700, among 2,000 ordinary clients.
#[test]
fn decoy_floods_cannot_trip_the_guardrail() {
    let mut w = World::new(Config::default());
    for i in 0..2000 {
        w.send(
            ip(format!("100.{}.{}.7", 64 + i / 256, i % 256)),
            T,
            5,
            20_000,
            false,
        );
    }
    for i in 0..150 {
        w.send(ip(format!("45.{i}.3.9")), T, 700, 400, false);
    }
    for j in 0..3400 {
        let decoy = ip(format!("2001:db8:dec0:{j:x}::1"));
        w.send(decoy, T, if j < 3000 { 601 } else { 1 }, 450, false);
    }
    let d = w.decide();
    assert!(d.tripped.is_empty(), "{:?}", d.tripped);
    for i in 0..150 {
        assert!(is_blocked(&d, &format!("45.{i}.3.9/32")), "flooder {i}");
    }
}

/// The guarantees that stay: with an hour of history, a rule with `limit = 1` (which bans
/// the established audience) is still stopped, on the established basis; and a botnet in more
/// networks than the whole audience, arriving after it, is not held back.
#[test]
fn with_history_a_broken_rule_trips_and_a_botnet_larger_than_the_audience_does_not() {
    let broken =
        Config::from_toml("[[rules]]\nname = \"everything\"\nwindow = \"1m\"\nlimit = 1\n")
            .unwrap();
    let mut w = World::new(broken);
    for i in 0..500 {
        let a = ip(format!("100.{}.{}.7", 64 + i / 256, i % 256));
        w.send(a, T - 3_600_000, 1, 1, false);
        w.send(a, T, 3, 1_000, false);
    }
    let d = w.decide();
    assert_eq!(d.tripped.len(), 1, "{:?}", d.tripped);
    assert_eq!(d.tripped[0].basis, "established");
    assert!(d.kept.is_empty());

    let mut w = World::new(Config::default());
    for i in 0..500 {
        let a = ip(format!("100.{}.{}.7", 64 + i / 256, i % 256));
        w.send(a, T - 3_600_000, 3, 60_000, false);
        w.send(a, T, 3, 60_000, false);
    }
    for i in 0..2000 {
        w.send(
            ip(format!("{}.{}.9.9", 20 + i / 250, i % 250)),
            T,
            700,
            400,
            false,
        );
    }
    let d = w.decide();
    assert!(d.tripped.is_empty(), "{:?}", d.tripped);
    assert_eq!(d.kept.len(), 2000);
}

/// Item 9: one /48 with 30,000 offending /64s and a tenth more kept quiet (under
/// `ranges.min_share`) would fill the IPv6 capacity (30,000 entries) with single /64s and push
/// the most severe attackers elsewhere out. It is one entry; every other attacker is blocked.
#[test]
fn one_slash48_cannot_fill_the_ipv6_capacity() {
    let mut w = World::new(Config::default());
    for i in 0..2000 {
        w.send(
            ip(format!("100.{}.{}.7", 64 + i / 256, i % 256)),
            T,
            5,
            20_000,
            false,
        );
    }
    for j in 0..33_400u32 {
        let a = ip(format!("2001:db8:bad:{j:x}::1"));
        w.send(a, T, if j < 30_000 { 21 } else { 1 }, 5_000, j < 30_000);
    }
    // 50 severe attackers, each in its own /48
    for i in 0..50 {
        w.send(
            ip(format!("2001:db8:{:x}::5", 0x100 + i)),
            T,
            2000,
            100,
            false,
        );
    }
    let d = w.decide();
    assert!(d.tripped.is_empty(), "{:?}", d.tripped);
    assert!(
        is_blocked(&d, "2001:db8:bad::/48"),
        "{:?}",
        &d.blocklist.ipv6[..5]
    );
    for i in 0..50 {
        assert!(
            is_blocked(&d, &format!("2001:db8:{:x}::/64", 0x100 + i)),
            "attacker {i}"
        );
    }
    assert!(d.blocklist.ipv6.len() <= 51, "{}", d.blocklist.ipv6.len());
    assert!(
        d.dropped.is_empty(),
        "{:?}",
        &d.dropped[..3.min(d.dropped.len())]
    );
}

/// Item 2: 30,000 /64s each send 21 `POST /api/auth/<200 random chars>` with a distinct
/// 200-character user agent (the review's 201 MB state). Evidence is capped, so the state stays
/// a few MB, and every one of them is still banned (counts are never what gives).
#[test]
fn unique_paths_and_user_agents_cannot_bloat_the_state() {
    let config = Config::default();
    let mut tally = floodgate_core::tally::Tally::new(&config, 0);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = |n: usize| -> String {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect()
    };
    for j in 0..30_000u32 {
        let client = ip(format!(
            "2001:db8:{:x}:{:x}::1",
            0x1000 + j / 4096,
            j % 4096
        ));
        for i in 0..21 {
            let path = format!("/api/auth/{}", random(200));
            let ua = random(200);
            let mut r = floodgate_core::Request::minimal(T + i * 5_000, client);
            r.method = "POST".into();
            r.path = path.as_str().into();
            r.user_agent = ua.as_str().into();
            tally.observe(&config, &r);
        }
    }
    let mut state = State::default();
    let mut input = RunInput::new(&config, &state);
    input.add("bloat".into(), FileSummary::default(), tally);
    let d = engine::run(&config, &mut state, input, None, false).unwrap();
    let bans = d.bans.iter().filter(|b| b.active).count();
    assert_eq!(bans, 30_000);
    let bytes = state.save().len();
    let evidence: usize = state.profiles.values().map(|p| p.evidence_bytes()).sum();
    assert!(
        evidence <= floodgate_core::evidence::STATE_EVIDENCE_BUDGET,
        "{evidence}"
    );
    assert!(bytes < 16 << 20, "state {} MB", bytes >> 20);
    eprintln!("bloat state: {bytes} bytes, evidence {evidence} bytes, 30,000 keys");
}
