//! The state format is a contract with every deployed state object: a state written by an
//! earlier build must load in this one. `data/state-v2-sample.bin` was written by the build of
//! 2026-12-07 (`floodgate analyze sample-logs --state … --now 2026-11-02T10:00:00Z`, format
//! version 2); it is never regenerated. A later format must keep loading it.

use floodgate_core::state::{State, MAGIC};

const PINNED: &[u8] = include_bytes!("data/state-v2-sample.bin");

#[test]
fn a_state_written_by_the_2026_12_07_build_still_loads() {
    assert_eq!(&PINNED[..16], MAGIC);
    assert_eq!(u32::from_le_bytes(PINNED[16..20].try_into().unwrap()), 2);
    let state = State::load(PINNED).expect("the pinned state loads");
    assert_eq!(state.processed.len(), 51, "every sample log object");
    assert_eq!(state.resolution_ms, 1000);
    assert!(state.config.is_some(), "it recorded its configuration");
    let mut v4 = state.blocklist.ipv4.clone();
    v4.sort();
    assert_eq!(
        v4,
        [
            "192.0.2.50/32",
            "198.51.100.7/32",
            "203.0.113.10/31",
            "203.0.113.12/32"
        ]
    );
    assert_eq!(state.blocklist.ipv6, ["2001:db8:bad:1::/64"]);
    assert!(!state.sources.is_empty() && !state.offences.is_empty());
}

#[test]
fn this_build_writes_the_pinned_format_byte_for_byte() {
    // When the format changes on purpose, this test changes; the one above must not.
    let state = State::load(PINNED).unwrap();
    assert!(
        state.save() == PINNED,
        "re-encoding the pinned state changed its bytes"
    );
}
