//! Where the time of reading one object goes, and what a second thread buys: inflating alone,
//! the one-thread read ([`read_object`]) and the two-thread read ([`read_object_par`]) of the
//! same file, best of `RUNS` (default 5) each, as one JSON line.
//!
//! `cargo run --release -p floodgate-core --example read_split -- FILE.log.gz`

use floodgate_core::config::Config;
use floodgate_core::decode;
use floodgate_core::lateness::LateLines;
use floodgate_core::pipeline::{read_object, read_object_par};
use std::io::Read;
use std::time::Instant;

fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: read_split FILE");
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let data = std::fs::read(&path).expect("readable file");
    if let Ok(threads) = std::env::var("ONLY_THREADS") {
        // One kind of read only, for a profiler.
        let threads: usize = threads.parse().expect("a thread count");
        let (config, late) = (Config::default(), LateLines::default());
        for _ in 0..runs {
            read_object_par(&config, &late, &path, &data[..], threads).expect("read");
        }
        return;
    }
    let config = Config::default();
    let late = LateLines::default();
    let inflate = best(runs, || {
        let (_, mut d) = decode::open(&data[..]).expect("open");
        let mut buf = vec![0u8; 1 << 20];
        while d.read(&mut buf).expect("inflate") > 0 {}
    });
    let one = best(runs, || {
        read_object(&config, &late, &path, &data[..]).expect("read");
    });
    let two = best(runs, || {
        read_object_par(&config, &late, &path, &data[..], 2).expect("read");
    });
    println!(
        "{{\"file\":{path:?},\"inflate_ms\":{inflate:.1},\"read_jobs1_ms\":{one:.1},\"read_jobs2_ms\":{two:.1},\"ratio\":{:.2}}}",
        one / two
    );
}
