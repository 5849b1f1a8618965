//! Partials reduced in any grouping give the state a direct commit gives.

use super::*;
use crate::decision::Blocklist;
use crate::engine;
use crate::pipeline::read_object;
use std::path::{Path, PathBuf};

fn sample_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "gz") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn config() -> Config {
    Config::from_toml(
        "[[rules]]\nname = \"flood\"\nwindow = \"5m\"\nlimit = 100\n\
         [[rules]]\nname = \"errors\"\nwindow = \"5m\"\nlimit = 20\nstatus = [\"4xx\"]\n",
    )
    .unwrap()
}

/// Each sample file read with no late lines (as an ingesting invocation reads it).
/// Read once per test binary (the samples are ~18,000 records; debug builds are slow).
fn read_all(config: &Config) -> Vec<(String, FileSummary, Tally)> {
    static READ: std::sync::OnceLock<Vec<(String, FileSummary, Tally)>> =
        std::sync::OnceLock::new();
    READ.get_or_init(|| read_each(config)).clone()
}

fn read_each(config: &Config) -> Vec<(String, FileSummary, Tally)> {
    sample_files()
        .iter()
        .map(|p| {
            let path = p.display().to_string();
            let (s, t) = read_object(
                config,
                &LateLines::default(),
                &path,
                std::fs::File::open(p).unwrap(),
            )
            .unwrap();
            (path, s, t)
        })
        .collect()
}

fn partial_of(config: &Config, objects: &[(String, FileSummary, Tally)]) -> Vec<u8> {
    encode(
        config,
        objects.iter().map(|(id, s, t)| (id.as_str(), s, t)),
        &[],
    )
}

/// The direct path: each batch's objects read against the state before it, then committed.
fn direct(config: &Config, batches: &[&[(String, FileSummary, Tally)]]) -> (State, Blocklist) {
    let mut state = State::default();
    let mut last = Blocklist::default();
    for batch in batches {
        let late = LateLines::of(config, &state);
        let mut input = RunInput::new(config, &state);
        for p in sample_files() {
            let path = p.display().to_string();
            if batch.iter().any(|o| o.0 == path) {
                let file = std::fs::File::open(&p).unwrap();
                let (s, t) = read_object(config, &late, &path, file).unwrap();
                input.add(path, s, t);
            }
        }
        last = engine::run(config, &mut state, input, None, false)
            .unwrap()
            .blocklist;
    }
    (state, last)
}

/// The partial path: objects in partials of `per` (written in reverse order), reduced in
/// `cycles` (each a run of the engine over everything pending).
fn reduced(
    config: &Config,
    cycles: &[&[(String, FileSummary, Tally)]],
    per: usize,
) -> (State, Blocklist) {
    let mut state = State::default();
    let mut last = Blocklist::default();
    for objects in cycles {
        let mut p = Partial::default();
        for chunk in objects.rchunks(per) {
            p.extend(decode(config, &partial_of(config, chunk)).unwrap());
        }
        let input = p.into_input(config, &state);
        last = engine::run(config, &mut state, input, None, false)
            .unwrap()
            .blocklist;
    }
    (state, last)
}

#[test]
fn partials_reduced_in_any_grouping_equal_a_direct_commit() {
    let config = config();
    let objects = read_all(&config);
    assert!(objects.len() > 20, "the sample logs are there");
    let (half1, half2) = objects.split_at(objects.len() / 2);
    for cycles in [vec![&objects[..]], vec![half1, half2], vec![half2, half1]] {
        let (want_state, want) = direct(&config, &cycles);
        assert!(!want.ipv4.is_empty(), "the samples ban someone");
        for per in [1, 64] {
            let (got_state, got) = reduced(&config, &cycles, per);
            assert_eq!(got, want, "{} cycles, {per} per partial", cycles.len());
            assert!(got_state.rules == want_state.rules, "windows differ");
            assert!(got_state.offences == want_state.offences, "offences differ");
            assert_eq!(got_state.processed, want_state.processed);
            assert_eq!(got_state.late_total, want_state.late_total);
        }
    }

    // A partial reduced again (its invocation retried, or two reducers) counts nothing.
    let (state, _) = reduced(&config, &[&objects[..]], 3);
    let again = partial_of(&config, &objects[..3]);
    let input = decode(&config, &again).unwrap().into_input(&config, &state);
    assert!(input.processed_ids.is_empty());
    assert_eq!(input.skipped.len(), 3);
}

#[test]
fn the_same_object_in_two_partials_of_one_reduction_counts_once() {
    let config = config();
    let objects = read_all(&config);
    let one = partial_of(&config, &objects[..1]);
    let mut p = decode(&config, &one).unwrap();
    p.extend(decode(&config, &one).unwrap());
    let input = p.into_input(&config, &State::default());
    assert_eq!(input.processed_ids.len(), 1);
    assert_eq!(input.skipped.len(), 1);
    assert_eq!(input.tally.records, objects[0].2.records);
}

#[test]
fn lateness_is_judged_against_the_state_it_is_merged_into() {
    let config = config();
    let objects = read_all(&config);
    // A state whose WAF watermark is a day after the samples: every WAF record is late.
    let mut state = State::default();
    let newest = objects
        .iter()
        .filter_map(|o| o.1.last_time_ms)
        .max()
        .unwrap();
    state.sources.insert("waf".into(), newest + 86_400_000);
    let waf: Vec<_> = objects
        .iter()
        .filter(|o| o.1.format.map(|f| f.as_str()) == Some("waf"))
        .cloned()
        .collect();
    assert!(!waf.is_empty());
    let records: u64 = waf.iter().map(|o| o.2.records - o.2.allowlisted).sum();
    let input = decode(&config, &partial_of(&config, &waf))
        .unwrap()
        .into_input(&config, &state);
    assert_eq!(input.tally.late, records);
    assert!(input.tally.rules.iter().all(|m| m.is_empty()));
}

#[test]
fn a_rule_is_merged_by_name_after_a_configuration_change() {
    let config = config();
    let objects = read_all(&config);
    let bytes = partial_of(&config, &objects[..5]);
    // The same rules in the other order, and one of them renamed.
    let other = Config::from_toml(
        "[[rules]]\nname = \"errors\"\nwindow = \"5m\"\nlimit = 20\nstatus = [\"4xx\"]\n\
         [[rules]]\nname = \"renamed\"\nwindow = \"5m\"\nlimit = 100\n",
    )
    .unwrap();
    let p = decode(&other, &bytes).unwrap();
    let mut errors = 0;
    for (o, (_, _, t)) in p.objects.iter().zip(&objects[..5]) {
        assert_eq!(o.tally.rules[0], t.rules[1], "errors found by name");
        assert!(
            o.tally.rules[1].is_empty(),
            "an unknown rule counts nothing"
        );
        errors += o.tally.rules[0].len();
    }
    assert!(errors > 0);
}

#[test]
fn damaged_partials_are_errors_never_panics() {
    let config = config();
    let objects = read_all(&config);
    let bytes = partial_of(&config, &objects[..3]);
    assert_eq!(decode(&config, b"nope"), Err(PartialError::NotAPartial));
    let mut v2 = bytes.clone();
    v2[16] = 2;
    assert_eq!(decode(&config, &v2), Err(PartialError::NotAPartial));
    assert!(matches!(
        decode(&config, &[bytes.as_slice(), b"x"].concat()),
        Err(PartialError::Corrupt(_))
    ));
    // Every truncation and many single-byte changes: an error or a valid partial, no panic.
    for cut in (0..bytes.len()).step_by(7) {
        assert!(decode(&config, &bytes[..cut]).is_err());
    }
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut b = bytes.clone();
        let i = 20 + (x as usize) % (b.len() - 20);
        b[i] = (x >> 32) as u8;
        let _ = decode(&config, &b);
    }
}
