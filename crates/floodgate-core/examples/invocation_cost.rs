//! What one more small log object costs on top of a big state, phase by phase: the work of one
//! Lambda invocation during an attack (bench/run.sh records it in docs/performance.md).
//!
//! `cargo run --release -p floodgate-core --example invocation_cost -- STATE CONFIG OBJECT...`
//! prints one JSON line: milliseconds per phase, state size, report sizes.

use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::pipeline::read_object;
use floodgate_core::report::Report;
use floodgate_core::state::State;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [state_path, config_path, objects @ ..] = args.as_slice() else {
        eprintln!("usage: invocation_cost STATE CONFIG OBJECT...");
        std::process::exit(2);
    };
    let config = Config::from_toml(&std::fs::read_to_string(config_path).unwrap()).unwrap();
    let bytes = std::fs::read(state_path).unwrap();
    let mut phases: Vec<(&str, f64)> = Vec::new();
    let mut t = Instant::now();
    let mut lap = |name: &'static str, phases: &mut Vec<(&str, f64)>| {
        phases.push((name, t.elapsed().as_secs_f64() * 1000.0));
        t = Instant::now();
    };
    let mut state = State::load(&bytes).unwrap();
    lap("state_decode", &mut phases);
    let mut input = RunInput::new(&config, &state);
    for (i, o) in objects.iter().enumerate() {
        let file = std::fs::File::open(o).unwrap();
        let (summary, tally) = read_object(
            &config,
            &floodgate_core::lateness::LateLines::of(&config, &state),
            o,
            file,
        )
        .unwrap();
        input.add(format!("extra-{i}"), summary, tally);
    }
    lap("read_objects", &mut phases);
    let decision = engine::run(&config, &mut state, input, None, false).unwrap();
    lap("engine_run", &mut phases);
    let report = Report::build(&config, &state, &decision);
    lap("report_build", &mut phases);
    let files = report.files();
    lap("report_render", &mut phases);
    let saved = state.save();
    lap("state_encode", &mut phases);
    let total: f64 = phases.iter().map(|p| p.1).sum();
    let sizes: Vec<String> = files
        .iter()
        .map(|(name, _, body)| format!("\"{name}\":{}", body.len()))
        .collect();
    println!(
        "{{{},\"total_ms\":{total:.1},\"state_bytes\":{},\"bans\":{},\"clients_seen\":{},\"report_bytes\":{{{}}}}}",
        phases
            .iter()
            .map(|(n, ms)| format!("\"{n}_ms\":{ms:.1}"))
            .collect::<Vec<_>>()
            .join(","),
        saved.len(),
        decision.bans.len(),
        decision.clients_seen,
        sizes.join(",")
    );
}
