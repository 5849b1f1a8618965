//! The surge detector on loggen's scenarios with its defaults: the residential fleet is found
//! on its path within two minutes of its start, and ordinary traffic (the same hours without
//! the fleet, and the mixed scenario's attacks that per-address rules handle) is never a surge.

use floodgate_core::surge::{Detector, SurgeConfig};
use floodgate_core::{read_log, IngestOptions};
use floodgate_loggen::{generate, Compression, Format, Options, Scenario};

/// Every record's (time, host, path) of a generated corpus, in time order.
fn requests(
    opts: &Options,
    name: &str,
) -> (Vec<(i64, String, String)>, floodgate_loggen::Manifest) {
    let dir = std::env::temp_dir().join(format!("floodgate-surge-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let m = generate(opts, &dir).unwrap();
    let mut out = Vec::new();
    for f in &m.files {
        let data = std::fs::read(dir.join(&f.path)).unwrap();
        read_log(&f.path, &data[..], &IngestOptions::default(), |r| {
            out.push((r.time_ms, r.host.to_string(), r.path.to_string()))
        })
        .unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
    out.sort();
    (out, m)
}

/// (evaluation time, group) of every surge, evaluating at the end of every minute.
fn surges(reqs: &[(i64, String, String)], start_ms: i64) -> Vec<(i64, String)> {
    let mut d = Detector::new(SurgeConfig::default(), start_ms);
    let mut next = start_ms + 60_000;
    let mut out = Vec::new();
    for (t, host, path) in reqs {
        while *t >= next {
            out.extend(
                d.evaluate(next - 1)
                    .into_iter()
                    .map(|s| (next - 1, s.group)),
            );
            next += 60_000;
        }
        d.observe(*t, host, path);
    }
    out.extend(
        d.evaluate(next - 1)
            .into_iter()
            .map(|s| (next - 1, s.group)),
    );
    out
}

fn opts(scenario: Scenario) -> Options {
    Options {
        scenario,
        formats: vec![Format::Waf, Format::Cloudfront, Format::Alb],
        seed: 24,
        compression: Compression::None,
        ..Options::default()
    }
}

#[test]
fn the_fleet_is_a_surge_on_its_path_within_two_minutes_and_nothing_else_is() {
    let o = opts(Scenario::ResidentialFleet);
    let (reqs, m) = requests(&o, "fleet");
    let fleet = m.fleet.unwrap();
    let from = floodgate_loggen::time::parse_rfc3339(&fleet.start).unwrap();
    let found = surges(&reqs, o.start_ms);
    assert!(!found.is_empty(), "the fleet was not seen");
    assert!(
        found.iter().all(|(_, g)| g.ends_with("/search")),
        "{found:?}"
    );
    let first = found[0].0;
    assert!(
        first >= from && first - from <= 2 * 60_000,
        "first surge {} ms after the fleet's start",
        first - from
    );
}

#[test]
fn ordinary_traffic_and_the_mixed_attacks_are_no_surge() {
    for scenario in [Scenario::Background, Scenario::Mixed] {
        let o = opts(scenario);
        let (reqs, _) = requests(&o, scenario.name());
        let found = surges(&reqs, o.start_ms);
        assert!(found.is_empty(), "{}: {found:?}", scenario.name());
    }
}
