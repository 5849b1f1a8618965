//! What one more small log object costs on top of a big state, phase by phase: the work of one
//! Lambda invocation during an attack (bench/run.sh records it in docs/performance.md).
//!
//! `cargo run --release -p floodgate-core --example invocation_cost -- STATE CONFIG OBJECT...`
//! prints one JSON line: milliseconds per phase, state size, report sizes, and under
//! `"partials"` the same object the way `FLOODGATE_PARTIALS_PREFIX` splits it: what the reading
//! invocation does besides reading (encode its partial; it never touches the state) and what
//! the reducer's cycle costs to merge it (state decode, partial decode and merge, decide,
//! state encode; reports are written on their own cadence, not in every cycle).

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
    let partials = partial_path(&config, &bytes, objects);
    let total: f64 = phases.iter().map(|p| p.1).sum();
    let sizes: Vec<String> = files
        .iter()
        .map(|(name, _, body)| format!("\"{name}\":{}", body.len()))
        .collect();
    println!(
        "{{{},\"total_ms\":{total:.1},\"state_bytes\":{},\"bans\":{},\"clients_seen\":{},\"report_bytes\":{{{}}},\"partials\":{partials}}}",
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

/// The partials path for the same objects (see the module docs): one JSON object of ms.
fn partial_path(config: &Config, state_bytes: &[u8], objects: &[String]) -> String {
    use floodgate_core::lateness::LateLines;
    use floodgate_core::partial;
    let t = Instant::now();
    let read: Vec<_> = objects
        .iter()
        .map(|o| {
            let file = std::fs::File::open(o).unwrap();
            let (s, t) = read_object(config, &LateLines::default(), o, file).unwrap();
            (o.clone(), s, t)
        })
        .collect();
    let read_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let bytes = partial::encode(
        config,
        read.iter().map(|(id, s, t)| (id.as_str(), s, t)),
        &[],
    );
    let encode_ms = t.elapsed().as_secs_f64() * 1000.0;
    drop(read);
    let t = Instant::now();
    let mut state = State::load(state_bytes).unwrap();
    let decode_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let input = partial::decode(config, &bytes)
        .unwrap()
        .into_input(config, &state);
    let merge_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    engine::run(config, &mut state, input, None, false).unwrap();
    let run_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let saved = state.save();
    let save_ms = t.elapsed().as_secs_f64() * 1000.0;
    format!(
        "{{\"read_ms\":{read_ms:.1},\"partial_encode_ms\":{encode_ms:.1},\"partial_bytes\":{},\
         \"reader_state_ms\":0,\"reducer_state_decode_ms\":{decode_ms:.1},\
         \"reducer_partial_merge_ms\":{merge_ms:.1},\"reducer_engine_run_ms\":{run_ms:.1},\
         \"reducer_state_encode_ms\":{save_ms:.1},\"reducer_cycle_ms\":{:.1},\"state_bytes\":{}}}",
        bytes.len(),
        decode_ms + merge_ms + run_ms + save_ms,
        saved.len()
    )
}
