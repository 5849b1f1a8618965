//! The Lambda's memory on top of the largest state the review's attacker built (issue 23,
//! item 2): 30,000 IPv6 /64s each sending 21 `POST /api/auth/<200 random chars>` with a
//! distinct 200-character user agent. One more small object on top of that state, through
//! `App::handle`, must stay within half the function's default memory (1,024 MB): 2× headroom.
//! The heap is measured by a counting global allocator (live bytes and their peak).
#![allow(unsafe_code)] // a counting global allocator

mod common;

use common::NOW;
use floodgate_aws::memory::MemoryStore;
use floodgate_core::config::{Config, DEFAULT_CONFIG_TOML};
use floodgate_core::engine::{self, RunInput};
use floodgate_core::state::State;
use floodgate_core::FileSummary;
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static A: Counting = Counting;

/// The function's default memory size (infra `memorySize`), MB.
const DEFAULT_MEMORY_MB: usize = 1024;

fn bloat_state(config: &Config) -> State {
    let mut tally = floodgate_core::tally::Tally::new(config, 0);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random = |n: usize| -> String {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect()
    };
    for j in 0..30_000u32 {
        let ip = format!("2001:db8:{:x}:{:x}::1", 0x1000 + j / 4096, j % 4096)
            .parse()
            .unwrap();
        for i in 0..21 {
            let path = format!("/api/auth/{}", random(200));
            let ua = random(200);
            let mut r = floodgate_core::Request::minimal(NOW - 1_800_000 + i * 5_000, ip);
            r.method = "POST".into();
            r.path = path.as_str().into();
            r.user_agent = ua.as_str().into();
            tally.observe(config, &r);
        }
    }
    let mut state = State::default();
    let mut input = RunInput::new(config, &state);
    input.add("bloat".into(), FileSummary::default(), tally);
    engine::run(config, &mut state, input, None, false).unwrap();
    state
}

#[tokio::test]
async fn one_object_on_the_bloated_state_fits_the_function_with_room_to_spare() {
    let config = Config::default();
    let store = MemoryStore::new();
    let waf = common::sets();
    let state_bytes = {
        let bytes = bloat_state(&config).save();
        let n = bytes.len();
        store.insert("state", "state/floodgate.state", bytes);
        n
    };
    let line = r#"{"timestamp":1793613000000,"action":"ALLOW","httpRequest":{"clientIp":"192.0.2.1","uri":"/","httpMethod":"GET"}}"#;
    let etag = store.insert("logs", "AWSLogs/small.gz", format!("{line}\n").into_bytes());
    // The built-in configuration (the bloat state was decided with it), reports on every run.
    let settings = common::settings(&[("FLOODGATE_CONFIG_TOML", DEFAULT_CONFIG_TOML)]);
    let app = common::app_with(&store, &waf, settings).await;
    let event = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-02T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "I"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "logs", "ownerIdentity": {"principalId": "P"}, "arn": "arn:aws:s3:::logs"},
               "object": {"key": "AWSLogs/small.gz", "size": 100, "eTag": etag, "sequencer": "0A"}}
    }]});
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    app.handle(event, "r1").await.unwrap();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let budget = DEFAULT_MEMORY_MB << 20 >> 1;
    eprintln!(
        "state {} MB; one small object on top: heap peak {} MB (budget {} MB, half of {} MB)",
        state_bytes >> 20,
        peak >> 20,
        budget >> 20,
        DEFAULT_MEMORY_MB
    );
    assert!(
        peak <= budget,
        "peak {} MB over {} MB",
        peak >> 20,
        budget >> 20
    );
    // and the invocation did its job: the object was committed on top of the 30,000 keys
    let s = State::load(&store.bytes("state", "state/floodgate.state").unwrap()).unwrap();
    assert_eq!(s.last_run.records, 1);
    assert!(s.rules["login"].len() >= 30_000);
}
