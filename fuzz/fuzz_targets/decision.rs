//! Range bans and the broken-rule guardrail, against a model. Each input pair `(a, b)` is a
//! client: network `a % 8` of a fixed list (rented-looking /24s, one half-allowlisted /24,
//! an allowlisted one, IPv6 /48s), host `b`, and `a >> 3` requests 100 ms apart. The requests
//! go through the whole path as a WAF log (read_object → engine::run), with a rule "more than
//! 3 in 10 s", ranges at ≥ 4 offenders and ≥ 75 % of the network's clients (an IPv6 /48 at
//! 256 offenders whatever its share), and a guardrail at > 50 % of the networks seen once ≥ 8
//! keys are banned (every request is in the same minute: no network has history, so the
//! guardrail judges among the networks seen).
//!
//! Checked: a network is banned whole exactly when the model says so (offenders, clients
//! seen, allowlist overlap); a range's members are its offenders; no allowlisted address is
//! ever covered; the blocklist entries are disjoint and cover exactly the kept keys and the
//! blocked ranges; a tripped guardrail blocks nothing new, and trips exactly when the model's
//! share says it must; an ordinary client is covered only by a range.
#![no_main]

use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::pipeline::read_object;
use floodgate_core::state::State;
use ipnet::IpNet;
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::OnceLock;

const CONFIG: &str = r#"
[[rules]]
name = "tiny"
window = "10s"
limit = 3

[ban.ranges]
min_offenders = 4
min_share = 0.75

[ban.guardrail]
max_share = 0.5
min_bans = 8

[allow]
cidrs = ["10.0.0.0/8", "198.51.100.128/25"]
"#;

/// Networks the clients are drawn from (prefix, its /24 or /48).
const NETWORKS: [(&str, &str); 8] = [
    ("203.0.113.", "203.0.113.0/24"),
    ("192.0.2.", "192.0.2.0/24"),
    ("198.51.100.", "198.51.100.0/24"), // its upper half is allowlisted
    ("10.1.2.", "10.1.2.0/24"),         // allowlisted whole
    ("100.64.7.", "100.64.7.0/24"),
    ("2001:db8:1:", "2001:db8:1::/48"), // keys are /64s: the host byte picks one
    ("2001:db8:2:", "2001:db8:2::/48"),
    ("100.64.8.", "100.64.8.0/24"),
];
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const LIMIT: usize = 3;

fuzz_target!(|data: &[u8]| {
    static C: OnceLock<(Config, Vec<IpNet>)> = OnceLock::new();
    let (config, allow) = C.get_or_init(|| {
        let allow = ["10.0.0.0/8", "198.51.100.128/25"].map(|a| a.parse().unwrap());
        (Config::from_toml(CONFIG).expect("valid"), allow.to_vec())
    });
    // Clients: the last pair for an address wins, so each address has one request count.
    let mut clients: BTreeMap<IpAddr, (usize, usize)> = BTreeMap::new();
    for pair in data.chunks_exact(2).take(300) {
        let (a, b) = (pair[0], pair[1]);
        let n = usize::from(a % 8);
        let (prefix, _) = NETWORKS[n];
        let ip: IpAddr = if prefix.contains(':') {
            format!("{prefix}{b:x}::").parse().unwrap() // = its key
        } else {
            format!("{prefix}{b}").parse().unwrap()
        };
        clients.insert(ip, (n, usize::from(a >> 3)));
    }
    let mut log = String::new();
    for (ip, &(_, count)) in &clients {
        for i in 0..count {
            let t = T0 + i as i64 * 100;
            log.push_str(&format!(
                r#"{{"timestamp":{t},"action":"ALLOW","httpRequest":{{"clientIp":"{ip}","uri":"/","httpMethod":"GET"}}}}"#
            ));
            log.push('\n');
        }
    }
    let mut state = State::default();
    let (summary, tally) = read_object(
        config,
        &floodgate_core::lateness::LateLines::of(config, &state),
        "fuzz.log",
        log.as_bytes(),
    )
    .expect("a generated WAF log reads");
    assert_eq!(summary.rejected.total(), 0, "{:?}", summary.rejected);
    let mut input = RunInput::new(config, &state);
    input.add("fuzz.log".into(), summary, tally);
    let d = engine::run(config, &mut state, input, Some(T0 + 60_000), false).expect("fresh state");

    // The model: per network, distinct clients seen (allowlisted ones are never counted) and
    // offenders (more than LIMIT requests, not allowlisted).
    let allowed = |ip: &IpAddr| allow.iter().any(|a| a.contains(ip));
    let mut seen: BTreeMap<usize, u32> = BTreeMap::new();
    let mut offenders: BTreeMap<usize, BTreeSet<IpAddr>> = BTreeMap::new();
    for (ip, &(n, count)) in &clients {
        if allowed(ip) || count == 0 {
            continue;
        }
        *seen.entry(n).or_default() += 1;
        if count > LIMIT {
            offenders.entry(n).or_default().insert(*ip);
        }
    }
    let total_offenders: usize = offenders.values().map(BTreeSet::len).sum();
    let total_seen: u32 = seen.values().sum();
    assert_eq!(d.clients_seen, u64::from(total_seen), "clients seen");

    // The guardrail: trips exactly when the share of offending networks is too large (each
    // entry of NETWORKS is one /24 or /48).
    let offending_networks = offenders.values().filter(|o| !o.is_empty()).count();
    let networks_seen = seen.len();
    let trips = total_offenders >= 8 && offending_networks as f64 > 0.5 * networks_seen as f64;
    assert_eq!(!d.tripped.is_empty(), trips, "guardrail {:?}", d.tripped);
    if trips {
        assert!(d.kept.is_empty() && d.ranges.iter().all(|r| !r.blocked));
        assert!(d.blocklist.all().next().is_none(), "{:?}", d.blocklist);
        return;
    }

    // Ranges: exactly the networks the model bans, with exactly its offenders as members.
    let mut want: BTreeMap<IpNet, BTreeSet<IpAddr>> = BTreeMap::new();
    for (n, off) in &offenders {
        let net: IpNet = NETWORKS[*n].1.parse().unwrap();
        let overlaps = allow.iter().any(|a| a.contains(&net) || net.contains(a));
        let many_v6 = net.addr().is_ipv6() && off.len() >= 256;
        let share = off.len() >= 4 && off.len() as f64 >= 0.75 * f64::from(seen[n]);
        if (share || many_v6) && !overlaps {
            want.insert(net, off.clone());
        }
    }
    let got: BTreeMap<IpNet, BTreeSet<IpAddr>> = d
        .ranges
        .iter()
        .map(|r| (r.cidr, r.members.iter().map(|k| k.addr()).collect()))
        .collect();
    assert_eq!(got, want, "range bans disagree with the model");
    for r in &d.ranges {
        assert_eq!(
            r.clients_seen,
            seen[&NETWORKS
                .iter()
                .position(|x| x.1.parse::<IpNet>().unwrap() == r.cidr)
                .unwrap()]
        );
        assert!(r.blocked, "capacity is far from reached");
    }

    // The blocklist: disjoint entries that cover exactly the kept keys and the ranges, never
    // an allowlisted address, an ordinary client only inside a range.
    let entries: Vec<IpNet> = d
        .blocklist
        .all()
        .map(|c| c.parse().expect("blocklist entries are CIDRs"))
        .collect();
    for (i, a) in entries.iter().enumerate() {
        for b in &entries[i + 1..] {
            assert!(!a.contains(b) && !b.contains(a), "{a} and {b} overlap");
        }
        assert!(
            !allow.iter().any(|x| x.contains(a) || a.contains(x)),
            "allowlisted {a} banned"
        );
    }
    let covered = |ip: &IpAddr| entries.iter().any(|e| e.contains(ip));
    for (ip, &(n, count)) in &clients {
        if count == 0 {
            continue; // never in the log
        }
        let in_range = want.keys().any(|r| r.contains(ip));
        let offends = count > LIMIT && !allowed(ip);
        assert_eq!(
            covered(ip),
            offends || in_range,
            "{ip} ({count} requests, network {n})"
        );
    }
    let kept: BTreeSet<IpAddr> = d.kept.iter().map(|k| k.addr()).collect();
    let model_kept: BTreeSet<IpAddr> = offenders.values().flatten().copied().collect();
    assert_eq!(kept, model_kept, "kept keys are the offenders");
});
