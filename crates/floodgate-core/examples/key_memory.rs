#![allow(unsafe_code)] // the counting global allocator
//! Bytes of heap per tracked client: count 10, 10 k, 100 k and 1 M distinct clients (three
//! requests each, one rule) into a [`Tally`] and then into the [`State`], and report the
//! allocator's live bytes above the 10-client baseline divided by the extra clients, and the
//! peak of live bytes during the whole count-and-run (what RSS has to hold).
//!
//! `cargo run --release -p floodgate-core --example key_memory [N…]`; bench/run.sh records it.

use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::Request;
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting live bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grew(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        grew(new);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CONFIG: &str = r#"
[[rules]]
name = "flood"
window = "5m"
limit = 600

[allow]
cidrs = []
"#;

/// Live bytes of (tally, state) after counting `clients` clients with 3 requests each, and
/// the peak above the start during counting and the run.
fn measure(config: &Config, clients: u32) -> (usize, usize, usize) {
    let start = 1_793_606_400_000i64;
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let mut tally = Tally::new(config, 0);
    for i in 0..clients {
        // Public-looking IPv4 addresses from 11.0.0.0 on; three requests a few seconds apart.
        let ip = IpAddr::V4(Ipv4Addr::from(0x0b00_0000u32 + i));
        for k in 0..3i64 {
            let t = start + (i as i64 % 60_000) + k * 2_000;
            tally.observe(config, &Request::minimal(t, ip));
        }
    }
    let tally_bytes = LIVE.load(Ordering::Relaxed) - before;
    let mut state = State::default();
    let mut input = RunInput::new(config, &state);
    input.add("mem".into(), Default::default(), tally);
    let before_state = LIVE.load(Ordering::Relaxed);
    engine::run(config, &mut state, input, None, true).expect("run");
    let state_bytes = LIVE.load(Ordering::Relaxed).saturating_sub(before_state);
    drop(state);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    (tally_bytes, state_bytes, peak)
}

fn main() {
    let config = Config::from_toml(CONFIG).expect("config");
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a number of clients"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    let (base_tally, base_state, base_peak) = measure(&config, 10);
    println!("clients,tally_bytes,tally_bytes_per_key,state_bytes,state_bytes_per_key,peak_bytes,peak_bytes_per_key");
    for n in sizes {
        let (t, s, p) = measure(&config, n);
        let extra = (n - 10) as f64;
        println!(
            "{n},{t},{:.1},{s},{:.1},{p},{:.1}",
            (t - base_tally) as f64 / extra,
            s.saturating_sub(base_state) as f64 / extra,
            p.saturating_sub(base_peak) as f64 / extra
        );
    }
}
