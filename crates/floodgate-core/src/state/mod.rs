//! The state: everything needed to continue later, in one versioned, self-describing object.
//!
//! It holds the window buckets within the horizon, settled offences within memory, profiles,
//! the ids of processed log objects (so a redelivered S3 event counts once), the watermark,
//! and the previous decision (for `changes` and the new-ban guardrail).
//!
//! # Time lines
//!
//! * **watermark** `M`: the newest event time seen.
//! * **sources**: the watermark of each log source; a record is *late* when it is older than its
//!   own source's line (counted in the report, not in windows), see [`crate::lateness`].
//! * **settled line** `S`, about `M − (longest window + lateness)` rounded down to a bucket, held
//!   back for a source whose logs arrive later (CloudFront); exactly in [`crate::lateness`].
//!   Offences before `S` are settled (kept in `offences`); later ones are recomputed from the
//!   buckets on every run, so files in any order give the same result.
//! * Buckets of a rule with window `w` are kept from `S − w` on (the windows of unsettled
//!   buckets need them); older ones are dropped.
//!
//! # Encoding
//!
//! [`State::save`] writes the magic `FLOODGATE-STATE\n`, a little-endian `u32` version, and a
//! postcard body with every map sorted, so equal states encode to equal bytes. [`State::load`]
//! reads the current version and version 1, and refuses other magics and versions with a clear
//! error. The layout (in `state/codec.rs`) is written without copying the state, window buckets
//! as deltas and profile strings once in a table, because during an attack every invocation
//! reads and writes it (tens of MB at 40,000 bans). `extensions` holds named sections a later
//! build may add; a build that does not know a section keeps it as it is.

mod codec;
pub mod streams;

pub(crate) use codec::delta;

use crate::decision::{Blocklist, Offence};
use crate::ingest::FileSummary;
use crate::key::Key;
use crate::keymap::KeyMap;
use crate::reject::RejectStats;
use crate::tally::Profile;
use crate::window::Buckets;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// First bytes of every state object.
pub const MAGIC: &[u8; 16] = b"FLOODGATE-STATE\n";
/// The encoding version this build reads and writes.
pub const VERSION: u32 = 2;

/// Why a state could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not a floodgate state.
    #[error("not a floodgate state (bad magic)")]
    BadMagic,
    /// Written by another version.
    #[error("state version {found} is not supported by this build (it reads version {VERSION}); run the matching floodgate or start from a fresh state")]
    Version {
        /// The version in the header.
        found: u32,
    },
    /// Corrupt body.
    #[error("corrupt state: {0}")]
    Corrupt(String),
    /// Built with another bucket resolution.
    #[error("state was built with engine.resolution = {found} ms but the configuration says {wanted} ms; keep the resolution or start from a fresh state")]
    Resolution {
        /// In the state.
        found: i64,
        /// In the config.
        wanted: i64,
    },
}

/// Window data of one key under one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyWindow {
    /// Sparse buckets from the rule's keep line on (encoded as deltas).
    #[serde(with = "codec::delta")]
    pub buckets: Buckets,
    /// Highest plain window count seen.
    pub peak: u32,
    /// Bucket of the last settled offence (counting restarts after it).
    pub reset: Option<u32>,
}

/// A summary of the most recent run, so reports can be re-rendered from the state alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    /// Decision time of that run, ms.
    pub now_ms: i64,
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Keys active before that run (for the new-ban guardrail). Encoded apart from the rest.
    #[serde(skip)]
    pub prev_active: BTreeSet<Key>,
    /// Blocklist before that run (for `changes`). Encoded apart from the rest.
    #[serde(skip)]
    pub prev_blocklist: Blocklist,
    /// Files read; their rejections as counts only (the samples are in `rejected`).
    pub files: Vec<FileSummary>,
    /// Objects skipped because they were processed before.
    pub skipped: Vec<String>,
    /// Rejected lines of the run.
    pub rejected: RejectStats,
    /// Records, allowlisted, late, distinct keys of the run.
    pub records: u64,
    /// See `records`.
    pub allowlisted: u64,
    /// See `records`.
    pub late: u64,
    /// See `records`.
    pub distinct_keys: u64,
    /// Event time range of the run.
    pub first_ms: Option<i64>,
    /// See `first_ms`.
    pub last_ms: Option<i64>,
    /// Clients that reached half a rule's limit without offending it ([`crate::near_miss`]).
    #[serde(default)]
    pub near_misses: Vec<crate::near_miss::NearMiss>,
}

/// See the module docs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// Bucket size the buckets were counted with (0: new state).
    pub resolution_ms: i64,
    /// Newest event time seen.
    pub watermark_ms: Option<i64>,
    /// Buckets before this are settled (0: nothing settled yet).
    pub settled_bucket: u32,
    /// Per rule name: per key windows.
    pub rules: BTreeMap<String, KeyMap<KeyWindow>>,
    /// Settled offences within memory, per key, time-ordered.
    pub offences: FxHashMap<Key, Vec<Offence>>,
    /// Profiles of suspicious keys.
    pub profiles: FxHashMap<Key, Profile>,
    /// Processed object and stream-batch ids → watermark when processed. Object ids are
    /// pruned after `ban.memory`, stream ids at the settled line ([`streams`]).
    pub processed: BTreeMap<String, i64>,
    /// Keys in the blocklist after the last decision.
    pub active: BTreeSet<Key>,
    /// The last decision's blocklist.
    pub blocklist: Blocklist,
    /// Requests per minute within memory (chart).
    pub per_minute: BTreeMap<u32, u64>,
    /// Total late requests ever.
    pub late_total: u64,
    /// The most recent run.
    pub last_run: LastRun,
    /// Per WAF IP set (by id): the entries floodgate itself wrote there. Entries of the set not
    /// listed here were added by someone else and are never removed.
    pub ip_sets: BTreeMap<String, BTreeSet<String>>,
    /// Latest bucket per key seen, kept only when no rule counts every request (see
    /// [`Config::unfiltered_rule`](crate::config::Config::unfiltered_rule)).
    pub presence: FxHashMap<Key, u32>,
    /// When reports were last written by the Lambda (it writes them at most once per interval).
    pub reports_ms: Option<i64>,
    /// Per sink, what it could not deliver yet (a failed notification), retried next run.
    pub undelivered: BTreeMap<String, Vec<String>>,
    /// Named sections of later builds, kept byte for byte.
    pub extensions: BTreeMap<String, Vec<u8>>,
    /// Per network, when it was first and last seen (the guardrail's history; encoded as the
    /// extension section [`crate::history::SECTION`]).
    pub history: crate::history::History,
    /// The configuration the state was last decided with (extension section
    /// [`CONFIG_SECTION`]); `None` in states written before it was recorded.
    pub config: Option<crate::config::ConfigSource>,
    /// Per log source (format name), the newest event time read from it: lateness is judged
    /// per source ([`crate::lateness`]). Encoded as the extension section [`SOURCES_SECTION`];
    /// empty in states written before it.
    pub sources: BTreeMap<String, i64>,
    /// Manual bans and unbans ([`crate::manual`]); encoded as the extension section
    /// [`crate::manual::SECTION`], empty in states written before them.
    pub manual: crate::manual::Manual,
}

/// The state's extension section holding [`State::sources`] (JSON).
pub const SOURCES_SECTION: &str = "sources";

/// The state's extension section holding [`State::config`] (JSON).
pub const CONFIG_SECTION: &str = "config";

impl State {
    /// Encode (the layout is in `state/codec.rs`). Equal states give equal bytes.
    pub fn save(&self) -> Vec<u8> {
        codec::save(self)
    }

    /// Decode a state written by [`State::save`] (or by a version-1 build).
    pub fn load(bytes: &[u8]) -> Result<State, StateError> {
        codec::load(bytes)
    }

    /// Refuse a state counted with another resolution (its buckets would mean other times).
    pub fn check_resolution(&self, resolution_ms: i64) -> Result<(), StateError> {
        if self.resolution_ms != 0 && self.resolution_ms != resolution_ms {
            return Err(StateError::Resolution {
                found: self.resolution_ms,
                wanted: resolution_ms,
            });
        }
        Ok(())
    }

    /// Whether a log object was already counted.
    pub fn is_processed(&self, id: &str) -> bool {
        self.processed.contains_key(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-client budget at 1 M clients (docs/performance.md) is made of these sizes: a
    /// change that grows them should be a decision, not an accident.
    #[test]
    fn per_key_values_stay_small() {
        use std::mem::size_of;
        assert_eq!(
            size_of::<Buckets>(),
            24,
            "two pairs inline in smallvec's union layout"
        );
        assert_eq!(size_of::<(Key, KeyWindow)>(), 56);
        assert_eq!(size_of::<(Key, crate::tally::Counts)>(), 48);
    }

    #[test]
    fn unknown_magic_and_version_are_clear_errors() {
        assert!(matches!(State::load(b"hello"), Err(StateError::BadMagic)));
        let mut bytes = State::default().save();
        bytes[16] = 99;
        let e = State::load(&bytes).unwrap_err();
        assert!(matches!(e, StateError::Version { found: 99 }));
        assert!(e.to_string().contains("version 99"));
        let bytes = State::default().save();
        assert!(matches!(
            State::load(&bytes[..bytes.len() - 1]),
            Err(StateError::Corrupt(_))
        ));
        assert_eq!(
            State::load(&State::default().save()).unwrap(),
            State::default()
        );
    }

    #[test]
    fn the_network_history_travels_as_an_extension_section() {
        let mut s = State::default();
        s.history.observe(Key(1, 2), 5, 9);
        let bytes = s.save();
        let back = State::load(&bytes).unwrap();
        assert_eq!(back, s);
        assert!(
            back.extensions.is_empty(),
            "the section is the field, not kept twice"
        );
        // A state written before the history existed (no section) loads with none.
        assert!(State::load(&State::default().save())
            .unwrap()
            .history
            .is_empty());
    }
}
