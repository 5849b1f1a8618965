//! Ingestion micro-benchmarks: gzip decoding, each format's line parser (MB/s and records/s),
//! and the whole `read_log` (decode + lines + UTF-8 + parse). Run with
//! `cargo bench -p floodgate-core --bench ingest`; bench/run.sh records the figures.
#![allow(missing_docs)] // criterion_group! generates undocumented public functions

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use floodgate_core::formats::LineParser;
use floodgate_core::{read_log, ClientIpSource, IngestOptions};
use floodgate_loggen::Format;
use std::hint::black_box;
use std::io::Read;
use std::time::Duration;

fn formats() -> Vec<(Format, common::Corpus)> {
    [Format::Waf, Format::Cloudfront, Format::Alb]
        .into_iter()
        .map(|f| (f, common::corpus(f)))
        .collect()
}

fn decode(c: &mut Criterion, corpora: &[(Format, common::Corpus)]) {
    let mut g = c.benchmark_group("decode");
    for (format, corpus) in corpora {
        g.throughput(Throughput::Bytes(corpus.plain.len() as u64));
        g.bench_function(format.name(), |b| {
            b.iter(|| {
                let mut buf = vec![0u8; 256 * 1024];
                let mut total = 0;
                for object in &corpus.gzip {
                    let (_, mut d) = floodgate_core::decode::open(&object[..]).unwrap();
                    loop {
                        let n = d.read(&mut buf).unwrap();
                        if n == 0 {
                            break;
                        }
                        total += n;
                    }
                }
                black_box(total)
            })
        });
    }
    g.finish();
}

fn parse_all(lines: &[&str]) -> u64 {
    let mut parser = LineParser::new(ClientIpSource::Source);
    let mut records = 0u64;
    for line in lines {
        let _ = parser.parse(line, &mut |r: floodgate_core::Request<'_>| {
            black_box(&r);
            records += 1;
        });
    }
    records
}

fn parse(c: &mut Criterion, corpora: &[(Format, common::Corpus)]) {
    for (unit, group) in [("bytes", "parse_mb"), ("records", "parse_records")] {
        let mut g = c.benchmark_group(group);
        for (format, corpus) in corpora {
            let lines = corpus.lines();
            let records = parse_all(&lines);
            g.throughput(if unit == "bytes" {
                Throughput::Bytes(corpus.plain.len() as u64)
            } else {
                Throughput::Elements(records)
            });
            g.bench_function(format.name(), |b| b.iter(|| black_box(parse_all(&lines))));
        }
        g.finish();
    }
}

fn read_whole(c: &mut Criterion, corpora: &[(Format, common::Corpus)]) {
    let mut g = c.benchmark_group("read_log");
    let opts = IngestOptions::default();
    for (format, corpus) in corpora {
        g.throughput(Throughput::Bytes(corpus.plain.len() as u64));
        g.bench_function(format.name(), |b| {
            b.iter(|| {
                let mut n = 0u64;
                for object in &corpus.gzip {
                    read_log("bench", &object[..], &opts, |r| {
                        black_box(r);
                        n += 1;
                    })
                    .unwrap();
                }
                n
            })
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let corpora = formats();
    decode(c, &corpora);
    parse(c, &corpora);
    read_whole(c, &corpora);
}

criterion_group! {
    name = ingest;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(ingest);
