//! Guardrails end to end: log bytes → `pipeline::read_object` → `engine::run`, the way the CLI
//! and the Lambda drive the core. The engine-level ban tests are in `engine.rs`; these check
//! that a bad rule, an allowlist or a wrong client-IP setting cannot ban the wrong people.

use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::pipeline::read_object;
use floodgate_core::state::State;
use floodgate_core::{FileSummary, IngestError, RejectReason};
use ipnet::IpNet;

const T: i64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z

fn config(extra: &str) -> Config {
    Config::from_toml(&format!(
        "[[rules]]\nname = \"flood\"\nwindow = \"1m\"\nlimit = 10\n{extra}"
    ))
    .unwrap()
}

/// `n` WAF requests from `ip`, one every 100 ms from `start`, with an optional X-Forwarded-For.
fn waf_burst(ip: &str, start: i64, n: i64, xff: Option<&str>) -> String {
    let headers = match xff {
        Some(v) => format!(r#","headers":[{{"name":"X-Forwarded-For","value":"{v}"}}]"#),
        None => String::new(),
    };
    (0..n)
        .map(|i| {
            format!(
                r#"{{"timestamp":{},"action":"ALLOW","httpRequest":{{"clientIp":"{ip}","uri":"/","httpMethod":"GET"{headers}}}}}"#,
                start + i * 100
            ) + "\n"
        })
        .collect()
}

/// Read `files` (name, bytes) into one run against `state` and decide.
fn run_files(
    config: &Config,
    state: &mut State,
    files: &[(&str, String)],
) -> Result<(Decision, Vec<FileSummary>), IngestError> {
    let mut input = RunInput::new(config, state);
    let mut summaries = Vec::new();
    for (name, data) in files {
        let (summary, tally) = read_object(
            config,
            &floodgate_core::lateness::LateLines::of(config, state),
            name,
            data.as_bytes(),
        )?;
        summaries.push(summary.clone());
        input.add(name.to_string(), summary, tally);
    }
    Ok((
        engine::run(config, state, input, None, false).unwrap(),
        summaries,
    ))
}

fn blocked(d: &Decision) -> Vec<IpNet> {
    d.blocklist
        .all()
        .map(|c| c.parse().expect("blocklist entries are CIDRs"))
        .collect()
}

/// Every active ban is either in the blocklist or listed in `dropped` with a reason.
fn nothing_silent(d: &Decision) {
    let active = d.bans.iter().filter(|b| b.active).count();
    assert_eq!(active, d.kept.len() + d.dropped.len(), "{d:#?}");
    assert!(d.dropped.iter().all(|x| !x.reason.is_empty()));
}

/// 200 ordinary clients in 4 files that each "offend" a rule far too strict for the traffic.
fn world_files() -> Vec<(String, String)> {
    (0..4)
        .map(|f| {
            let body: String = (0..50)
                .map(|i| waf_burst(&format!("198.51.{f}.{}", i + 1), T, 12 + i, None))
                .collect();
            (format!("part-{f}.log"), body)
        })
        .collect()
}

#[test]
fn a_rule_that_would_ban_the_world_is_stopped_by_the_guardrail() {
    let c = config("");
    let files = world_files();
    let files: Vec<(&str, String)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let mut s = State::default();
    let (d, sums) = run_files(&c, &mut s, &files).unwrap();
    assert!(sums.iter().all(|f| f.complete && f.rejected.total() == 0));
    assert_eq!(d.bans.iter().filter(|b| b.active).count(), 200);
    assert!(
        d.kept.is_empty(),
        "every client offends: the rule is broken, nothing is banned"
    );
    assert!(d.blocklist.ipv4.is_empty());
    assert_eq!(d.tripped.len(), 1);
    let t = &d.tripped[0];
    assert_eq!(
        (t.rule.as_str(), t.bans, t.clients, t.held_back),
        ("flood", 200, 200, 200)
    );
    assert!(d.dropped.iter().all(|x| x.reason == "guardrail"));
    nothing_silent(&d);
    // explain says why, with the basis the guardrail judged on
    let text = floodgate_core::explain::explain(&c, &s, &d, "198.51.0.1".parse().unwrap())
        .to_text(d.now_ms);
    assert!(
        text.contains("guardrail: rule flood would ban 200 client(s) in 4 of the 4 networks of the clients seen (100 %)"),
        "{text}"
    );
    // Still tripped on the next run: the held bans do not creep in.
    let d2 = engine::expire(&c, &mut s, T + 60_000, false).unwrap();
    assert!(d2.kept.is_empty() && d2.tripped.len() == 1);
    nothing_silent(&d2);
}

#[test]
fn an_attack_by_a_minority_of_clients_passes_the_guardrail() {
    // 120 attackers (over min_bans, in two /24s) among 200 quiet clients, an audience spread
    // over as many networks: the guardrail counts networks (2 of 202), not keys.
    let c = config("");
    let mut data = String::new();
    for i in 0..200 {
        data += &waf_burst(&format!("100.64.{}.{}", i, i % 250 + 1), T, 3, None);
    }
    for i in 0..120 {
        data += &waf_burst(
            &format!("203.0.{}.{}", 100 + i / 100, i % 100 + 1),
            T,
            30,
            None,
        );
    }
    let mut s = State::default();
    let (d, _) = run_files(&c, &mut s, &[("a.log", data)]).unwrap();
    assert!(d.tripped.is_empty(), "{:?}", d.tripped);
    assert_eq!(d.kept.len(), 120);
    nothing_silent(&d);
}

#[test]
fn max_new_per_run_is_an_optional_absolute_cap() {
    // The guardrail off (max_share = 1.0) and a cap of 25 new bans per run.
    let c = config("[ban]\nmax_new_per_run = 25\n[ban.guardrail]\nmax_share = 1.0\n");
    let files = world_files();
    let files: Vec<(&str, String)> = files.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    let mut s = State::default();
    let (d, _) = run_files(&c, &mut s, &files).unwrap();
    assert_eq!(d.kept.len(), 25, "nothing banned past the cap");
    let addresses: u32 = blocked(&d).iter().map(|n| 1 << (32 - n.prefix_len())).sum();
    assert_eq!(addresses, 25, "{:?}", d.blocklist.ipv4);
    assert_eq!(d.dropped.len(), 175);
    assert!(d.dropped.iter().all(|x| x.reason == "max_new_per_run"));
    // The most severe are the ones kept: none dropped is more severe than any kept.
    let min_kept = d
        .bans
        .iter()
        .filter(|b| d.kept.contains(&b.key))
        .map(|b| b.severity)
        .fold(f64::INFINITY, f64::min);
    assert!(d.dropped.iter().all(|x| x.severity <= min_kept));
    nothing_silent(&d);
    // The state remembers only what was kept; the next run admits at most 25 more.
    assert_eq!(s.active.len(), 25);
    let d2 = engine::expire(&c, &mut s, T + 60_000, false).unwrap();
    assert_eq!(d2.kept.len(), 50);
    nothing_silent(&d2);
}

#[test]
fn an_allowlisted_attacker_range_is_never_banned() {
    let c = config("[allow]\ncidrs = [\"203.0.113.0/24\", \"2001:db8:aaaa::/48\"]\n");
    let mut data = String::new();
    for i in 1..=20 {
        data += &waf_burst(&format!("203.0.113.{i}"), T, 100, None);
    }
    data += &waf_burst("2001:db8:aaaa:1::1", T, 100, None);
    data += &waf_burst("::ffff:203.0.113.77", T, 100, None); // mapped form: same client
    data += &waf_burst("192.0.2.66", T, 100, None); // outside: banned
    let mut s = State::default();
    let (d, sums) = run_files(&c, &mut s, &[("a.log", data)]).unwrap();
    assert_eq!(sums[0].records, 2300);
    assert_eq!(s.last_run.allowlisted, 2200);
    assert_eq!(d.blocklist.ipv4, ["192.0.2.66/32"]);
    assert!(d.blocklist.ipv6.is_empty());
    assert!(d.bans.iter().all(|b| b.cidr.to_string() == "192.0.2.66/32"));
    nothing_silent(&d);
}

#[test]
fn a_wide_ban_prefix_never_covers_an_allowlisted_range() {
    // Keys are /16s; an attacker in 203.0.0.0/16 must not get the allowlisted /24 inside it
    // blocked. The ban is held back and reported instead.
    let c = config("[ban]\nipv4_prefix = 16\n[allow]\ncidrs = [\"203.0.113.0/24\"]\n");
    let mut data = waf_burst("203.0.5.5", T, 100, None);
    data += &waf_burst("198.51.100.1", T, 100, None);
    let mut s = State::default();
    let (d, _) = run_files(&c, &mut s, &[("a.log", data)]).unwrap();
    let allow: IpNet = "203.0.113.0/24".parse().unwrap();
    assert!(
        blocked(&d).iter().all(|n| !n.contains(&allow)),
        "{:?}",
        d.blocklist
    );
    assert_eq!(d.blocklist.ipv4, ["198.51.0.0/16"]);
    assert_eq!(d.dropped.len(), 1);
    assert_eq!(d.dropped[0].cidr.to_string(), "203.0.0.0/16");
    assert_eq!(d.dropped[0].reason, "allowlisted");
    nothing_silent(&d);
}

#[test]
fn allowlisting_an_address_lifts_its_existing_ban_at_the_next_decision() {
    let c = config("");
    let mut s = State::default();
    let (d, _) = run_files(
        &c,
        &mut s,
        &[("a.log", waf_burst("192.0.2.9", T, 50, None))],
    )
    .unwrap();
    assert_eq!(d.blocklist.ipv4, ["192.0.2.9/32"]);
    // The operator allowlists it (docs/operations.md: "Unblock an address now").
    let c2 = config("[allow]\ncidrs = [\"192.0.2.0/24\"]\n");
    let d = engine::expire(&c2, &mut s, T + 60_000, false).unwrap();
    assert!(d.blocklist.ipv4.is_empty(), "{:?}", d.blocklist);
    assert_eq!(d.changes.removed, ["192.0.2.9/32"]);
    nothing_silent(&d);
}

#[test]
fn forwarded_for_without_the_header_rejects_every_request_and_bans_nobody() {
    let c = config("[source]\nclient_ip = \"x-forwarded-for\"\n");
    // WAF: flooding, but no X-Forwarded-For header at all, or an empty/unusable one.
    let mut waf = waf_burst("192.0.2.1", T, 40, None);
    waf += &waf_burst("192.0.2.2", T, 40, Some(""));
    waf += &waf_burst("192.0.2.3", T, 40, Some("unknown"));
    // CloudFront: an x-forwarded-for column that is "-".
    let mut cf = String::from(
        "#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status x-forwarded-for\n",
    );
    for i in 0..40 {
        cf += &format!(
            "2027-01-15\t08:00:{:02}\t192.0.2.4\tGET\t/\t200\t-\n",
            i % 60
        );
    }
    let mut s = State::default();
    let (d, sums) = run_files(&c, &mut s, &[("waf.log", waf), ("cf.log", cf)]).unwrap();
    assert!(d.bans.is_empty() && d.blocklist.all().next().is_none());
    assert_eq!(sums[0].records + sums[1].records, 0);
    for (sum, n) in sums.iter().zip([120, 40]) {
        assert!(sum.complete);
        assert_eq!(sum.rejected.counts[&RejectReason::NoForwardedIp], n);
        assert_eq!(sum.rejected.total(), n);
    }
    // Clearly counted in the run's record, with samples saying which header was looked at.
    assert_eq!(
        s.last_run.rejected.counts[&RejectReason::NoForwardedIp],
        160
    );
    assert!(s
        .last_run
        .rejected
        .samples
        .iter()
        .any(|x| x.detail.to_lowercase().contains("x-forwarded-for")));
    assert_eq!(s.last_run.records, 0);
}

#[test]
fn forwarded_for_on_alb_logs_is_a_configuration_error() {
    let c = config("[source]\nclient_ip = \"x-forwarded-for\"\ntrusted_proxies = 1\n");
    let alb = "https 2027-01-15T08:00:00.000000Z app/x 192.0.2.1:443 10.0.0.1:80 0.001 0.001 0.001 200 200 0 0 \"GET https://h:443/ HTTP/1.1\" \"ua\"\n".repeat(50);
    let mut s = State::default();
    let before = s.clone();
    let err = run_files(&c, &mut s, &[("alb.log", alb)]).unwrap_err();
    assert!(matches!(&err, IngestError::Unusable { path, .. } if path == "alb.log"));
    assert!(err.to_string().contains("client_ip = \"source\""));
    assert_eq!(s, before, "nothing was absorbed");
}

/// `explain` prints log-derived text (paths, user agents, country) to a terminal: an attacker's
/// escape sequences and control characters must arrive escaped, never as raw bytes.
#[test]
fn explain_escapes_control_characters_from_the_logs() {
    let c = config("");
    let mut state = State::default();
    let line = |i: i64| {
        format!(
            r#"{{"timestamp":{},"action":"ALLOW","httpRequest":{{"clientIp":"192.0.2.66","country":"N\u001bL","uri":"/a\u001b[2J\u0007b","httpMethod":"GET","headers":[{{"name":"User-Agent","value":"ua\u001b]0;owned\u0007\r"}}]}}}}"#,
            T + i * 100
        ) + "\n"
    };
    let log: String = (0..30).map(line).collect();
    let (d, _) = run_files(&c, &mut state, &[("esc.log", log)]).unwrap();
    assert_eq!(d.kept.len(), 1, "the flood is banned: {:?}", d.dropped);
    let ip = "192.0.2.66".parse().unwrap();
    let text = floodgate_core::explain::explain(&c, &state, &d, ip).to_text(d.now_ms);
    for shown in [
        r"/a\u{1b}[2J\u{7}b",
        r"ua\u{1b}]0;owned\u{7}\r",
        r"country N\u{1b}L",
    ] {
        assert!(text.contains(shown), "{shown} not in:\n{text}");
    }
    let raw: Vec<char> = text
        .chars()
        .filter(|ch| ch.is_control() && *ch != '\n')
        .collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in:\n{text}");
}
