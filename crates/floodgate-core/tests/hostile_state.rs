//! `State::load` on hostile bytes: a tiny input must not make the decoder reserve gigabytes.
//! Its own test binary because it installs a global allocator that records the largest
//! single allocation.
//!
//! The risk: smallvec's `Deserialize` (the bucket lists) reserves the sequence's `size_hint`
//! up front, and postcard's hint is the length the input *declares*. postcard 1.2 caps that
//! hint at the bytes left in the input (each element takes at least one), so the reservation
//! is bounded by 8 × the input size; this test keeps it that way if a dependency changes.
#![allow(unsafe_code)] // a tracking global allocator

use floodgate_core::key::Key;
use floodgate_core::state::{KeyWindow, State};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Largest;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static A: Largest = Largest;

/// A saved state with one rule, one key and one bucket `(77, 99)`.
fn one_bucket_state() -> Vec<u8> {
    let mut s = State::default();
    let mut w = KeyWindow::default();
    w.buckets.push((77, 99));
    s.rules
        .entry("flood".into())
        .or_default()
        .insert(Key(1, 2), w);
    s.save()
}

#[test]
fn a_huge_declared_bucket_count_does_not_allocate_it() {
    let good = one_bucket_state();
    // postcard writes the bucket list as varint length 1, then the varints 77 and 99.
    let at = good
        .windows(3)
        .position(|w| w == [1, 77, 99])
        .expect("bucket list in the encoding");
    for huge in [
        &[0xff, 0xff, 0xff, 0xff, 0x0f][..], // u32::MAX buckets (32 GiB)
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f][..], // 2^48 - 1
    ] {
        let mut bad = good[..at].to_vec();
        bad.extend_from_slice(huge);
        bad.extend_from_slice(&good[at + 1..]);
        LARGEST.store(0, Ordering::Relaxed);
        let r = State::load(&bad);
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(r.is_err(), "a list longer than its input is corrupt");
        assert!(
            largest < 1 << 20,
            "{} bytes of input made the decoder allocate {largest} bytes",
            bad.len()
        );
    }
    assert_eq!(State::load(&good).unwrap().save(), good);
}
