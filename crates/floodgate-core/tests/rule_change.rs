//! What a rule change does to running bans (docs/configuration.md, "Changing rules"): a
//! removed rule's held windows are dropped at the next run, so its recent (not yet settled)
//! offences ban nobody any more; its settled offences stay, keep their ban and keep naming the
//! old rule until they are older than `max(ban.memory, ban.max_duration) + ban.memory` before
//! the newest event.

use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::Request;
use std::net::IpAddr;

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

const BAN: &str = "[ban]\nduration = \"1h\"\nmax_duration = \"2h\"\nmemory = \"3h\"\n";
const OLD: &str = "[[rules]]\nname = \"old\"\nwindow = \"1m\"\nlimit = 10\n";
const KEPT: &str = "[[rules]]\nname = \"kept\"\nwindow = \"1m\"\nlimit = 1000\n";

fn run(config: &Config, state: &mut State, reqs: &[(i64, &str)], now: i64) -> Decision {
    let mut tally = Tally::new(config, state.settled_bucket);
    for (t, ip) in reqs {
        tally.observe(config, &Request::minimal(*t, ip.parse::<IpAddr>().unwrap()));
    }
    let input = RunInput {
        tally,
        ..RunInput::default()
    };
    engine::run(config, state, input, Some(now), false).unwrap()
}

fn burst(ip: &'static str, start: i64) -> Vec<(i64, &'static str)> {
    (0..20).map(|i| (start + i * 1000, ip)).collect()
}

fn rule_of<'d>(d: &'d Decision, cidr: &str) -> Option<&'d str> {
    d.bans
        .iter()
        .find(|b| b.cidr.to_string() == cidr)
        .map(|b| b.rule.as_str())
}

#[test]
fn a_removed_rule_drops_its_held_windows_and_keeps_its_settled_offences_until_the_horizon() {
    let before = Config::from_toml(&format!("{OLD}{KEPT}{BAN}")).unwrap();
    let after = Config::from_toml(&format!("{KEPT}{BAN}")).unwrap();
    let mut s = State::default();
    // 198.51.100.1 offends at T0 (settled by the later data), 198.51.100.2 at T0+2h (held).
    let mut reqs = burst("198.51.100.1", T0);
    reqs.extend(burst("198.51.100.2", T0 + 2 * HOUR));
    let d = run(&before, &mut s, &reqs, T0 + 2 * HOUR + MIN);
    assert_eq!(rule_of(&d, "198.51.100.1/32"), Some("old"));
    assert_eq!(rule_of(&d, "198.51.100.2/32"), Some("old"));
    assert_eq!(d.blocklist.ipv4, ["198.51.100.2/32"]);

    // The rule is removed: the held offence is gone at once, the settled one stays, named.
    let d = run(&after, &mut s, &[], T0 + 2 * HOUR + MIN);
    assert_eq!(rule_of(&d, "198.51.100.2/32"), None, "held windows dropped");
    assert!(d.blocklist.ipv4.is_empty());
    assert_eq!(
        rule_of(&d, "198.51.100.1/32"),
        Some("old"),
        "settled offence kept"
    );
    assert!(!s.rules.contains_key("old"));

    // Once the newest event is more than max(memory, max_duration) + memory = 6h past it, it is
    // gone, from the run's decision and from the saved state's alike.
    let now = T0 + 5 * HOUR + MIN;
    let d = run(&after, &mut s, &[(now, "192.0.2.9")], now);
    assert_eq!(
        rule_of(&d, "198.51.100.1/32"),
        Some("old"),
        "still within 6h"
    );
    let now = T0 + 6 * HOUR + MIN;
    let d = run(&after, &mut s, &[(now, "192.0.2.9")], now);
    assert_eq!(rule_of(&d, "198.51.100.1/32"), None);
    let d = engine::decide_again(&after, &s, now);
    assert_eq!(rule_of(&d, "198.51.100.1/32"), None);
}
