//! Manual bans and unbans through the engine (semantics in `floodgate_core::manual`).

use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::manual::{ManualBan, Unban};
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::Request;

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

fn config(extra: &str) -> Config {
    Config::from_toml(&format!(
        "[[rules]]\nname = \"flood\"\nwindow = \"1m\"\nlimit = 10\n{extra}"
    ))
    .unwrap()
}

/// One run: `n` requests of `ip` one second apart from `start` (none when `n` is 0).
fn run(c: &Config, s: &mut State, ip: &str, start: i64, n: i64, now: Option<i64>) -> Decision {
    let mut t = Tally::new(c, s.settled_bucket);
    for i in 0..n {
        t.observe(c, &Request::minimal(start + i * 1000, ip.parse().unwrap()));
    }
    let input = RunInput {
        tally: t,
        ..RunInput::default()
    };
    engine::run(c, s, input, now, false).unwrap()
}

fn manual_ban(cidr: &str, since: i64, until: i64) -> ManualBan {
    ManualBan {
        cidr: cidr.parse().unwrap(),
        since_ms: since,
        until_ms: until,
        reason: "abuse report".into(),
        by: "ops".into(),
    }
}

#[test]
fn a_manual_ban_is_blocked_first_and_expires_on_time() {
    // Capacity 1 per version: the manual ban takes the place, the counted one is dropped.
    let c = config("[ban]\nmax_entries = 1\n");
    let mut s = State::default();
    s.manual
        .ban(manual_ban("198.51.100.0/24", T0, T0 + 30 * MIN));
    let d = run(&c, &mut s, "203.0.113.5", T0, 20, None);
    assert_eq!(d.blocklist.ipv4, ["198.51.100.0/24"]);
    let manual = d.bans.iter().find(|b| b.rule == "manual").unwrap();
    assert!(manual.active);
    assert!(d
        .dropped
        .iter()
        .any(|x| x.cidr.to_string() == "203.0.113.5/32" && x.reason == "max_entries"));
    // The state keeps it; at its end it is gone.
    let loaded = State::load(&s.save()).unwrap();
    assert_eq!(loaded.manual, s.manual);
    let later = engine::decide_again(&c, &loaded, T0 + 31 * MIN);
    assert!(!later
        .blocklist
        .ipv4
        .contains(&"198.51.100.0/24".to_string()));
}

#[test]
fn a_manual_ban_is_not_held_back_by_the_guardrails() {
    let c = config("[ban]\nmax_new_per_run = 1\n");
    let mut s = State::default();
    s.manual.ban(manual_ban("192.0.2.9/32", T0, T0 + 60 * MIN));
    s.manual.ban(manual_ban("192.0.2.10/32", T0, T0 + 60 * MIN));
    let d = run(&c, &mut s, "203.0.113.5", T0, 20, None);
    assert_eq!(
        d.blocklist.ipv4,
        ["192.0.2.9/32", "192.0.2.10/32", "203.0.113.5/32"]
    );
}

#[test]
fn an_unban_lifts_the_counted_offences_and_a_new_offence_bans_again() {
    let c = config("");
    let mut s = State::default();
    let d = run(&c, &mut s, "203.0.113.5", T0, 20, None);
    assert_eq!(d.blocklist.ipv4, ["203.0.113.5/32"]);
    s.manual.unban(Unban {
        cidr: "203.0.113.5/32".parse().unwrap(),
        counted_to_ms: s.watermark_ms.unwrap(),
        recorded_ms: T0 + MIN,
        reason: "a customer".into(),
        by: "ops".into(),
    });
    // The next run (nothing new from it) does not ban it again.
    let d = run(&c, &mut s, "198.51.100.1", T0 + 2 * MIN, 1, None);
    assert!(d.blocklist.ipv4.is_empty(), "{:?}", d.blocklist);
    // A state saved and loaded says the same.
    let loaded = State::load(&s.save()).unwrap();
    assert!(engine::decide_again(&c, &loaded, loaded.last_run.now_ms)
        .blocklist
        .ipv4
        .is_empty());
    // A new offence after the unban bans it again, escalating from nothing.
    let d = run(&c, &mut s, "203.0.113.5", T0 + 3 * MIN, 20, None);
    assert_eq!(d.blocklist.ipv4, ["203.0.113.5/32"]);
    let ban = &d.bans[0];
    assert_eq!(ban.offences, 1);
    assert_eq!(ban.until_ms - ban.since_ms, c.ban.duration_ms);
}

#[test]
fn manual_is_not_a_rule_name() {
    let e = Config::from_toml("[[rules]]\nname = \"manual\"\nwindow = \"1m\"\nlimit = 1\n")
        .unwrap_err();
    assert!(e.to_string().contains("manual bans"), "{e}");
}
