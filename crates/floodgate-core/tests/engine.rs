//! Ban rules, guardrails, state, and order independence of the whole engine.

use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::Request;
use proptest::prelude::*;
use std::net::IpAddr;

const T0: i64 = 1_800_000_000_000; // 2027-01-15
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;

fn config(extra: &str) -> Config {
    Config::from_toml(&format!(
        "[[rules]]\nname = \"flood\"\nwindow = \"1m\"\nlimit = 10\n{extra}"
    ))
    .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `n` requests from `client` spread evenly over `span` ms from `start`.
fn burst(client: &str, start: i64, n: usize, span: i64) -> Vec<(i64, IpAddr)> {
    (0..n)
        .map(|i| (start + span * i as i64 / n.max(1) as i64, ip(client)))
        .collect()
}

fn tally_of(config: &Config, state: &State, reqs: &[(i64, IpAddr)]) -> Tally {
    let mut t = Tally::new(config, state.settled_bucket);
    for (time, client) in reqs {
        t.observe(config, &Request::minimal(*time, *client));
    }
    t
}

fn run(
    config: &Config,
    state: &mut State,
    reqs: &[(i64, IpAddr)],
    now: Option<i64>,
) -> floodgate_core::decision::Decision {
    let tally = tally_of(config, state, reqs);
    run_tally(config, state, tally, now, false)
}

/// Run the engine over an already counted tally.
fn run_tally(
    config: &Config,
    state: &mut State,
    tally: Tally,
    now: Option<i64>,
    dry_run: bool,
) -> floodgate_core::decision::Decision {
    engine::run(
        config,
        state,
        RunInput {
            tally,
            ..RunInput::default()
        },
        now,
        dry_run,
    )
    .unwrap()
}

#[test]
fn first_offence_bans_for_the_base_duration() {
    let c = config("");
    let mut s = State::default();
    let d = run(&c, &mut s, &burst("203.0.113.1", T0, 11, 30_000), None);
    assert_eq!(d.blocklist.ipv4, ["203.0.113.1/32"]);
    let ban = &d.bans[0];
    assert_eq!((ban.offences, ban.rule.as_str()), (1, "flood"));
    // the 11th request (at 30s * 10/11 → bucket of T0+27s) is the offence
    assert_eq!(ban.first_offence_ms, T0 + 27_000);
    assert_eq!(ban.until_ms, T0 + 27_000 + HOUR);
    assert!(ban.active && ban.new);
    // exactly the limit is no offence
    let mut s = State::default();
    let d = run(&c, &mut s, &burst("203.0.113.1", T0, 10, 30_000), None);
    assert!(d.bans.is_empty() && d.blocklist.ipv4.is_empty());
}

#[test]
fn escalation_sequence_and_cap() {
    let c = config(
        "[ban]\nduration = \"1h\"\nescalation = 2.0\nmax_duration = \"3h\"\nmemory = \"1d\"\n",
    );
    let mut s = State::default();
    // offences at T0, T0+2h, T0+5h, T0+10h: lengths 1h, 2h, 4h→3h (cap), 8h→3h
    let mut reqs = Vec::new();
    for start in [T0, T0 + 2 * HOUR, T0 + 5 * HOUR, T0 + 10 * HOUR] {
        reqs.extend(burst("198.51.100.1", start, 11, 1000));
    }
    let d = run(&c, &mut s, &reqs, Some(T0 + 10 * HOUR + 1));
    let ban = &d.bans[0];
    assert_eq!(ban.offences, 4);
    assert_eq!(ban.until_ms, T0 + 10 * HOUR + 3 * HOUR);
    assert_eq!(ban.since_ms, T0 + 10 * HOUR);
    // the same offences one at a time, checked at each step
    let mut s = State::default();
    for (i, (start, len)) in [
        (T0, HOUR),
        (T0 + 2 * HOUR, 2 * HOUR),
        (T0 + 5 * HOUR, 3 * HOUR),
    ]
    .into_iter()
    .enumerate()
    {
        let d = run(
            &c,
            &mut s,
            &burst("198.51.100.1", start, 11, 1000),
            Some(start + 1000),
        );
        assert_eq!(d.bans[0].until_ms, start + len, "offence {i}");
        assert_eq!(d.bans[0].offences as usize, i + 1);
    }
}

#[test]
fn memory_forgets_old_offences() {
    let c = config("[ban]\nduration = \"1h\"\nmemory = \"3h\"\n");
    let mut s = State::default();
    let mut reqs = burst("198.51.100.2", T0, 11, 1000);
    reqs.extend(burst("198.51.100.2", T0 + 4 * HOUR, 11, 1000));
    let d = run(&c, &mut s, &reqs, None);
    assert_eq!(
        d.bans[0].until_ms,
        T0 + 4 * HOUR + HOUR,
        "no escalation past memory"
    );
    assert_eq!(d.bans[0].offences, 1);
}

#[test]
fn offence_while_banned_extends_and_sustained_abuse_offends_again() {
    let c = config("[ban]\nduration = \"1h\"\nescalation = 1.0\n");
    let mut s = State::default();
    // 33 requests in one minute: offences at the 11th, 22nd and 33rd (counting restarts)
    let d = run(&c, &mut s, &burst("192.0.2.9", T0, 33, 33_000), None);
    let ban = &d.bans[0];
    assert_eq!(ban.offences, 3);
    assert_eq!(ban.since_ms, T0 + 10_000);
    assert_eq!(
        ban.until_ms,
        T0 + 32_000 + HOUR,
        "extended to the last offence + 1h"
    );
    assert_eq!(ban.peak, 33);
}

#[test]
fn expiry_at_now() {
    let c = config("");
    let mut s = State::default();
    let d = run(&c, &mut s, &burst("203.0.113.5", T0, 11, 1000), None);
    assert_eq!(d.blocklist.ipv4.len(), 1);
    let until = d.bans[0].until_ms;
    let d = engine::expire(&c, &mut s, until - 1, false).unwrap();
    assert_eq!(d.blocklist.ipv4.len(), 1);
    let d = engine::expire(&c, &mut s, until, false).unwrap();
    assert!(d.blocklist.ipv4.is_empty());
    assert!(!d.bans[0].active);
    assert_eq!(d.changes.removed, ["203.0.113.5/32"]);
}

#[test]
fn allowlisted_clients_are_never_counted_or_banned() {
    let c = config("[allow]\ncidrs = [\"10.0.0.0/8\", \"2001:db8:aaaa::/48\"]\n");
    let mut s = State::default();
    let mut reqs = burst("10.1.2.3", T0, 500, 10_000);
    reqs.extend(burst("2001:db8:aaaa:1::1", T0, 500, 10_000));
    let tally = tally_of(&c, &s, &reqs);
    assert_eq!(tally.allowlisted, 1000);
    assert_eq!(tally.distinct_keys(), 0);
    let d = run_tally(&c, &mut s, tally, None, false);
    assert!(d.bans.is_empty());
}

#[test]
fn keys_aggregate_to_the_configured_prefixes() {
    let c = config("[ban]\nipv4_prefix = 24\nipv6_prefix = 64\n");
    let mut s = State::default();
    let mut reqs = Vec::new();
    for i in 0..11 {
        reqs.push((T0 + i * 1000, ip(&format!("203.0.113.{}", i + 1))));
        reqs.push((T0 + i * 1000, ip(&format!("2001:db8:bad:1::{:x}", i + 1))));
        reqs.push((T0 + i * 1000, ip(&format!("2001:db8:bad:{:x}::1", i + 2))));
        // different /64s
    }
    let d = run(&c, &mut s, &reqs, None);
    assert_eq!(d.blocklist.ipv4, ["203.0.113.0/24"]);
    assert_eq!(d.blocklist.ipv6, ["2001:db8:bad:1::/64"]);
}

#[test]
fn adjacent_cidrs_are_merged_in_the_blocklist() {
    let c = config("");
    let mut s = State::default();
    let mut reqs = Vec::new();
    for client in [
        "203.0.113.0",
        "203.0.113.1",
        "203.0.113.2",
        "203.0.113.3",
        "203.0.113.9",
    ] {
        reqs.extend(burst(client, T0, 11, 1000));
    }
    let d = run(&c, &mut s, &reqs, None);
    assert_eq!(d.blocklist.ipv4, ["203.0.113.0/30", "203.0.113.9/32"]);
    assert_eq!(d.kept.len(), 5);
}

#[test]
fn guardrail_limits_new_bans_per_run_and_reports_the_rest() {
    let c = config("[ban]\nmax_new_per_run = 2\n");
    let mut s = State::default();
    let mut reqs = Vec::new();
    for (i, n) in [11usize, 50, 20, 30, 12].into_iter().enumerate() {
        reqs.extend(burst(&format!("198.51.100.{}", i + 1), T0, n, 50_000));
    }
    let d = run(&c, &mut s, &reqs, None);
    // most severe first: 50 and 30 requests
    assert_eq!(d.blocklist.ipv4, ["198.51.100.2/32", "198.51.100.4/32"]);
    let held: Vec<String> = d
        .dropped
        .iter()
        .map(|x| format!("{} {}", x.cidr, x.reason))
        .collect();
    assert_eq!(
        held,
        [
            "198.51.100.3/32 max_new_per_run",
            "198.51.100.5/32 max_new_per_run",
            "198.51.100.1/32 max_new_per_run"
        ]
    );
    // the next run admits two more
    let d = engine::expire(&c, &mut s, T0 + 2 * MIN, false).unwrap();
    assert_eq!(d.kept.len(), 4);
    assert_eq!(
        d.blocklist.ipv4,
        ["198.51.100.2/31", "198.51.100.4/31"],
        "adjacent keys merged"
    );
    assert_eq!(d.dropped.len(), 1);
}

#[test]
fn capacity_keeps_the_most_severe_and_lists_the_rest() {
    let c = config("[ban]\nmax_entries = 2\n");
    let mut s = State::default();
    let mut reqs = Vec::new();
    for (i, n) in [15usize, 40, 25].into_iter().enumerate() {
        reqs.extend(burst(&format!("192.0.2.{}", 10 + i), T0, n, 50_000));
    }
    reqs.extend(burst("2001:db8::1", T0, 12, 50_000));
    let d = run(&c, &mut s, &reqs, None);
    assert_eq!(d.blocklist.ipv4, ["192.0.2.11/32", "192.0.2.12/32"]);
    assert_eq!(
        d.blocklist.ipv6,
        ["2001:db8::/64"],
        "capacity is per IP version"
    );
    assert_eq!(d.dropped.len(), 1);
    assert_eq!(
        (d.dropped[0].cidr.to_string(), d.dropped[0].reason.as_str()),
        ("192.0.2.10/32".into(), "max_entries")
    );
}

#[test]
fn dry_run_decides_the_same_and_is_recorded() {
    let c = config("");
    let reqs = burst("203.0.113.7", T0, 20, 1000);
    let (mut a, mut b) = (State::default(), State::default());
    let (ta, tb) = (tally_of(&c, &a, &reqs), tally_of(&c, &b, &reqs));
    let da = run_tally(&c, &mut a, ta, None, false);
    let db = run_tally(&c, &mut b, tb, None, true);
    assert_eq!(da, db);
    assert!(b.last_run.dry_run && !a.last_run.dry_run);
}

#[test]
fn state_round_trips_and_reproduces_the_decision() {
    let c = config("");
    let mut s = State::default();
    let mut reqs = burst("203.0.113.8", T0, 30, 20_000);
    reqs.extend(burst("2001:db8:1::1", T0 + MIN, 30, 20_000));
    reqs.extend(burst("198.51.100.200", T0, 5, 20_000));
    let d = run(&c, &mut s, &reqs, None);
    let bytes = s.save();
    let loaded = State::load(&bytes).unwrap();
    assert_eq!(loaded, s);
    assert_eq!(loaded.save(), bytes, "equal states encode to equal bytes");
    assert_eq!(engine::decide_again(&c, &loaded, d.now_ms), d);
}

#[test]
fn late_requests_are_counted_not_lost() {
    let c = config("[engine]\nlateness = \"5m\"\n");
    let mut s = State::default();
    run(&c, &mut s, &burst("192.0.2.1", T0 + HOUR, 3, 1000), None);
    // settled line: watermark − (1m + 5m)
    let tally = tally_of(&c, &s, &burst("192.0.2.1", T0, 20, 1000));
    assert_eq!(tally.late, 20);
    let d = run_tally(&c, &mut s, tally, None, false);
    assert!(d.bans.is_empty());
    assert_eq!(s.last_run.late, 20);
    assert_eq!(s.late_total, 20);
}

#[test]
fn a_tally_made_before_another_writer_settled_counts_as_if_it_had_committed_first() {
    // Lateness is judged when a log is read (per source, `floodgate_core::lateness`), never by
    // which of two concurrent writers commits first: the Lambda's retry after a conflict must
    // give what the other commit order gives.
    let c = config("[engine]\nlateness = \"5m\"\n");
    let base = State::default();
    let old = tally_of(&c, &base, &burst("192.0.2.2", T0 + 30 * MIN, 20, 1000)); // against the empty state
    let newer = burst("192.0.2.3", T0 + HOUR, 3, 1000);
    let mut s = base.clone();
    run(&c, &mut s, &newer, None); // another writer moved on
    let d = run_tally(&c, &mut s, old.clone(), None, false);
    assert_eq!(s.last_run.late, 0);
    let mut first = base.clone();
    run_tally(&c, &mut first, old, None, false);
    let other_order = run(&c, &mut first, &newer, None);
    assert_eq!(d.blocklist, other_order.blocklist);
    let same = |mut bans: Vec<floodgate_core::decision::Ban>| {
        bans.iter_mut().for_each(|b| b.new = false); // new: relative to each order's previous run
        bans
    };
    assert_eq!(same(d.bans), same(other_order.bans));
    assert_eq!(d.blocklist.ipv4, ["192.0.2.2/32"]);
}

fn scenario() -> Vec<(i64, IpAddr)> {
    let mut reqs = Vec::new();
    reqs.extend(burst("203.0.113.1", T0, 40, 90_000));
    reqs.extend(burst("203.0.113.2", T0 + 3 * MIN, 25, 30_000));
    reqs.extend(burst("2001:db8:77::5", T0 + 5 * MIN, 15, 40_000));
    for i in 0..50 {
        reqs.extend(burst(
            &format!("198.51.100.{i}"),
            T0 + i * 10_000,
            9,
            59_000,
        ));
    }
    reqs
}

#[test]
fn partial_tallies_merge_commutatively_into_the_one_run_result() {
    let c = config("");
    let reqs = scenario();
    let (a, b): (Vec<_>, Vec<_>) = reqs.iter().enumerate().partition(|(i, _)| i % 3 == 0);
    let a: Vec<_> = a.into_iter().map(|(_, r)| *r).collect();
    let b: Vec<_> = b.into_iter().map(|(_, r)| *r).collect();
    let s = State::default();
    let (ta, tb, whole) = (
        tally_of(&c, &s, &a),
        tally_of(&c, &s, &b),
        tally_of(&c, &s, &reqs),
    );
    let mut ab = ta.clone();
    ab.merge(&tb);
    let mut ba = tb.clone();
    ba.merge(&ta);
    assert_eq!(ab.rules, ba.rules);
    assert_eq!(ab.rules, whole.rules);
    assert_eq!(
        (ab.records, ab.per_minute.clone(), ab.per_bucket.clone()),
        (
            whole.records,
            whole.per_minute.clone(),
            whole.per_bucket.clone()
        )
    );
    let (mut s1, mut s2) = (State::default(), State::default());
    let d1 = run_tally(&c, &mut s1, ab, None, false);
    let d2 = run_tally(&c, &mut s2, whole, None, false);
    assert_eq!(d1.blocklist, d2.blocklist);
    assert_eq!(d1.bans, d2.bans);
    assert_eq!(s1.rules, s2.rules);
    assert_eq!(s1.offences, s2.offences);
}

/// Requests of `clients` cut into "files" at `cuts`, delivered in an order shuffled by `seed`
/// and grouped into `runs` runs, must decide the same blocklist and bans as one sorted run.
fn same_as_one_run(
    c: &Config,
    clients: &[String],
    reqs: &[(i64, usize)],
    cuts: &[usize],
    runs: usize,
    seed: u64,
) -> Result<floodgate_core::decision::Decision, TestCaseError> {
    let mut all: Vec<(i64, IpAddr)> = reqs
        .iter()
        .map(|(t, k)| (T0 + t * 1000, ip(&clients[*k % clients.len()])))
        .collect();
    all.sort();
    let mut one = State::default();
    let want = run(c, &mut one, &all, Some(T0 + 1800 * 1000));
    // files: cut the sorted stream, then shuffle the file order
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (all.len() + 1)).collect();
    bounds.extend([0, all.len()]);
    bounds.sort();
    let mut files: Vec<Vec<(i64, IpAddr)>> = bounds
        .windows(2)
        .map(|w| all[w[0]..w[1]].to_vec())
        .collect();
    let mut x = seed | 1;
    for i in (1..files.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        files.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut s = State::default();
    let per_run = files.len().div_ceil(runs);
    let mut got = None;
    for chunk in files.chunks(per_run.max(1)) {
        let reqs: Vec<_> = chunk.iter().flatten().copied().collect();
        got = Some(run(c, &mut s, &reqs, Some(T0 + 1800 * 1000)));
    }
    let got = got.unwrap();
    prop_assert_eq!(&got.blocklist, &want.blocklist);
    let key = |d: &floodgate_core::decision::Decision| {
        d.bans
            .iter()
            .map(|b| (b.cidr, b.offences, b.until_ms))
            .collect::<Vec<_>>()
    };
    prop_assert_eq!(key(&got), key(&want));
    let ranges = |d: &floodgate_core::decision::Decision| {
        d.ranges
            .iter()
            .map(|r| (r.cidr, r.members.clone(), r.clients_seen))
            .collect::<Vec<_>>()
    };
    prop_assert_eq!(ranges(&got), ranges(&want));
    Ok(got)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// Random requests from a few clients, cut into "files" delivered in a random order and
    /// grouped into a random number of runs, decide the same blocklist as one sorted run —
    /// as long as no file arrives later than the lateness allows.
    #[test]
    fn any_file_order_and_run_split_gives_the_same_blocklist(
        reqs in prop::collection::vec((0i64..1800, 0usize..6), 1..400),
        cuts in prop::collection::vec(0usize..400, 0..6),
        runs in 1usize..4,
        seed in any::<u64>(),
    ) {
        let c = config("[engine]\nlateness = \"1h\"\n[ban]\nduration = \"10m\"\n");
        let clients: Vec<String> = ["203.0.113.1", "203.0.113.2", "2001:db8::1", "2001:db8::2", "198.51.100.1", "198.51.100.2"]
            .iter().map(|s| s.to_string()).collect();
        same_as_one_run(&c, &clients, &reqs, &cuts, runs, seed)?;
    }

    /// The same with range bans forming: 12 clients in one /24, 4 in another beside quiet
    /// ones, 6 in one IPv6 /48; a small min_offenders so that ranges come and go.
    #[test]
    fn range_bans_do_not_depend_on_file_order_or_run_split(
        reqs in prop::collection::vec((0i64..1800, 0usize..26), 1..700),
        cuts in prop::collection::vec(0usize..700, 0..6),
        runs in 1usize..4,
        seed in any::<u64>(),
    ) {
        let c = config("[engine]\nlateness = \"1h\"\n[ban]\nduration = \"10m\"\n[ban.ranges]\nmin_offenders = 3\nmin_share = 0.6\n");
        let mut clients: Vec<String> = (1..=12).map(|i| format!("203.0.113.{i}")).collect();
        clients.extend((1..=8).map(|i| format!("198.51.100.{i}")));
        clients.extend((1..=6).map(|i| format!("2001:db8:aa:{i}::1")));
        same_as_one_run(&c, &clients, &reqs, &cuts, runs, seed)?;
    }
}

#[test]
fn a_rented_range_is_banned_whole_and_a_carrier_nat_is_not() {
    let c = config("");
    let mut reqs = Vec::new();
    // 20 attackers fill 203.0.113.0/24; a carrier NAT 198.51.100.0/24 holds 3 attackers among
    // 150 ordinary clients; 2001:db8:aa::/48 has 18 attacking /64s.
    for i in 1..=20 {
        reqs.extend(burst(&format!("203.0.113.{i}"), T0, 11, 30_000));
    }
    for i in 1..=150 {
        reqs.extend(burst(&format!("198.51.100.{i}"), T0, 2, 30_000));
    }
    for i in 151..=153 {
        reqs.extend(burst(&format!("198.51.100.{i}"), T0, 11, 30_000));
    }
    for i in 1..=18 {
        reqs.extend(burst(&format!("2001:db8:aa:{i:x}::1"), T0, 11, 30_000));
    }
    let mut s = State::default();
    let d = run(&c, &mut s, &reqs, None);
    let ranges: Vec<String> = d.ranges.iter().map(|r| r.cidr.to_string()).collect();
    assert_eq!(ranges, ["203.0.113.0/24", "2001:db8:aa::/48"]);
    assert_eq!(d.ranges[0].members.len(), 20);
    assert_eq!(d.ranges[0].clients_seen, 20);
    assert!(d.ranges.iter().all(|r| r.blocked && r.new));
    assert_eq!(
        d.blocklist.ipv4,
        ["198.51.100.151/32", "198.51.100.152/31", "203.0.113.0/24"]
    );
    assert_eq!(d.blocklist.ipv6, ["2001:db8:aa::/48"]);
    // every active ban is covered by an entry; nothing is dropped
    assert_eq!(d.kept.len(), 20 + 3 + 18);
    assert!(d.dropped.is_empty());
    // a range overlapping the allowlist is never banned whole: its members stay single
    let c = config("[allow]\ncidrs = [\"203.0.113.200\"]\n");
    let mut s = State::default();
    let d = run(&c, &mut s, &reqs, None);
    assert!(d
        .ranges
        .iter()
        .all(|r| r.cidr.to_string() != "203.0.113.0/24"));
    assert!(d.blocklist.ipv4.iter().any(|e| e == "203.0.113.1/32"));
}

#[test]
fn capacity_keeps_the_entries_that_cover_the_most_offenders() {
    // 2 entries of room: the /24 covering 20 offenders and the most severe single one.
    let c = config("[ban]\nmax_entries = 2\n");
    let mut reqs = Vec::new();
    for i in 1..=20 {
        reqs.extend(burst(&format!("203.0.113.{i}"), T0, 11, 30_000));
    }
    reqs.extend(burst("192.0.2.1", T0, 40, 30_000));
    reqs.extend(burst("192.0.2.2", T0, 12, 30_000));
    let mut s = State::default();
    let d = run(&c, &mut s, &reqs, None);
    assert_eq!(d.blocklist.ipv4, ["192.0.2.1/32", "203.0.113.0/24"]);
    assert_eq!(d.dropped.len(), 1);
    assert_eq!(
        (
            d.dropped[0].cidr.to_string().as_str(),
            d.dropped[0].reason.as_str()
        ),
        ("192.0.2.2/32", "max_entries")
    );
}

#[test]
fn severity_survives_pruning_of_the_window() {
    let c = config("[engine]\nlateness = \"5m\"\n[ban]\nduration = \"1d\"\n");
    let mut s = State::default();
    let first = run(&c, &mut s, &burst("203.0.113.1", T0, 55, 30_000), None);
    assert_eq!(first.bans[0].peak, 55);
    // settle and prune in the same run as the offence, then save and load
    run(
        &c,
        &mut s,
        &burst("192.0.2.1", T0 + 2 * HOUR, 3, 1000),
        None,
    );
    let mut s = State::load(&s.save()).unwrap();
    let d = run(&c, &mut s, &burst("192.0.2.1", T0 + HOUR, 3, 1000), None);
    assert!(s.rules["flood"]
        .keys()
        .all(|k| !k.is_ipv4() || k.1 as u32 != u32::from(std::net::Ipv4Addr::new(203, 0, 113, 1))));
    assert_eq!(d.bans[0].peak, 55);
    assert_eq!(d.bans[0].severity, first.bans[0].severity);
}

/// The state keeps a run's rejection samples once (in `last_run.rejected`), each file's only as
/// counts: the report's samples and per-file totals are unchanged, the state does not carry
/// every damaged file's samples twice.
#[test]
fn a_runs_rejection_samples_are_kept_once() {
    let config = Config::default();
    let mut state = State::default();
    let mut input = RunInput::new(&config, &state);
    for name in ["a.log", "b.log"] {
        let data = b"date time\n{\"bad\nnot a log line\n";
        let (summary, tally) =
            floodgate_core::pipeline::read_object(&config, &Default::default(), name, &data[..])
                .unwrap();
        assert!(!summary.rejected.samples.is_empty());
        input.add(name.into(), summary, tally);
    }
    engine::run(&config, &mut state, input, Some(1_000), false).unwrap();
    let run = &state.last_run;
    assert_eq!(run.files.len(), 2);
    assert!(run.files.iter().all(|f| f.rejected.samples.is_empty()));
    assert_eq!(
        run.files.iter().map(|f| f.rejected.total()).sum::<u64>(),
        run.rejected.total()
    );
    assert_eq!(run.rejected.total(), 6);
    assert!(run.rejected.samples.iter().any(|s| s.file == "b.log"));
    let loaded = State::load(&state.save()).unwrap();
    assert_eq!(loaded.last_run.rejected, run.rejected);
}
