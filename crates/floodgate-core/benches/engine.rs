//! Engine micro-benchmarks: counting requests into windows (`Tally::observe`) and saving and
//! loading the state. Run with `cargo bench -p floodgate-core --bench engine`.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::formats::LineParser;
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::{ClientIpSource, Request};
use floodgate_loggen::Format;
use std::hint::black_box;
use std::time::Duration;

fn requests(lines: &[&'static str]) -> Vec<Request<'static>> {
    let mut parser = LineParser::new(ClientIpSource::Source);
    let mut out = Vec::new();
    for line in lines {
        let _ = parser.parse(line, &mut |r| out.push(r));
    }
    out
}

fn benches(c: &mut Criterion) {
    let corpus: &'static common::Corpus = Box::leak(Box::new(common::corpus(Format::Waf)));
    let lines: Vec<&'static str> = corpus.lines();
    let reqs = requests(&lines);
    let config = Config::default();

    let mut g = c.benchmark_group("tally_observe");
    g.throughput(Throughput::Elements(reqs.len() as u64));
    g.bench_function("default_rules", |b| {
        b.iter(|| {
            let mut t = Tally::new(&config, 0);
            for r in &reqs {
                t.observe(&config, r);
            }
            black_box(t.records)
        })
    });
    g.finish();

    let mut tally = Tally::new(&config, 0);
    for r in &reqs {
        tally.observe(&config, r);
    }
    let mut state = State::default();
    let mut input = RunInput::new(&config, &state);
    input.add("bench".into(), Default::default(), tally);
    engine::run(&config, &mut state, input, None, true).unwrap();
    let bytes = state.save();
    let mut g = c.benchmark_group("state");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("save", |b| b.iter(|| black_box(state.save().len())));
    g.bench_function("load", |b| {
        b.iter(|| black_box(State::load(&bytes).unwrap().watermark_ms))
    });
    g.finish();
}

criterion_group! {
    name = engine_benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(engine_benches);
