//! The state: everything needed to continue later, in one versioned, self-describing object.
//!
//! It holds the window buckets within the horizon, settled offences within memory, profiles,
//! the ids of processed log objects (so a redelivered S3 event counts once), the watermark,
//! and the previous decision (for `changes` and the new-ban guardrail).
//!
//! # Time lines
//!
//! * **watermark** `M`: the newest event time seen.
//! * **settled line** `S = M − (longest window + lateness)`, rounded down to a bucket. Requests
//!   older than `S` arriving later are *late*: counted in the report, not in windows.
//!   Offences before `S` are settled (kept in `offences`); later ones are recomputed from the
//!   buckets on every run, so files in any order give the same result.
//! * Buckets of a rule with window `w` are kept from `S − w` on (the windows of unsettled
//!   buckets need them); older ones are dropped.
//!
//! # Encoding
//!
//! [`State::save`] writes the magic `FLOODGATE-STATE\n`, a little-endian `u32` version, and a
//! postcard body with every map sorted, so equal states encode to equal bytes. [`State::load`]
//! reads the current version and version 1 (which had no presence map and no extensions),
//! and refuses other magics and versions with a clear error. `extensions` holds named sections
//! a later build may add; a build that does not know a section keeps it as it is.

use crate::decision::{Blocklist, Offence};
use crate::ingest::FileSummary;
use crate::key::Key;
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
    /// Sparse buckets from the rule's keep line on.
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
    /// Keys active before that run (for the new-ban guardrail).
    pub prev_active: BTreeSet<Key>,
    /// Blocklist before that run (for `changes`).
    pub prev_blocklist: Blocklist,
    /// Files read.
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
    pub rules: BTreeMap<String, FxHashMap<Key, KeyWindow>>,
    /// Settled offences within memory, per key, time-ordered.
    pub offences: FxHashMap<Key, Vec<Offence>>,
    /// Profiles of suspicious keys.
    pub profiles: FxHashMap<Key, Profile>,
    /// Processed object ids → watermark when processed (pruned after `ban.memory`).
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
    /// Named sections of later builds, kept byte for byte.
    pub extensions: BTreeMap<String, Vec<u8>>,
}

#[derive(Serialize, Deserialize)]
struct Encoded {
    v1: EncodedV1,
    presence: Vec<(Key, u32)>,
    extensions: Vec<(String, Vec<u8>)>,
}

/// Version 1's body, which version 2 extends (postcard is positional: fields only append).
#[derive(Serialize, Deserialize)]
struct EncodedV1 {
    resolution_ms: i64,
    watermark_ms: Option<i64>,
    settled_bucket: u32,
    rules: Vec<(String, Vec<(Key, KeyWindow)>)>,
    offences: Vec<(Key, Vec<Offence>)>,
    profiles: Vec<(Key, Profile)>,
    processed: Vec<(String, i64)>,
    active: Vec<Key>,
    blocklist: Blocklist,
    per_minute: Vec<(u32, u64)>,
    late_total: u64,
    last_run: Vec<u8>,
    ip_sets: Vec<(String, Vec<String>)>,
}

fn sorted<V: Clone>(m: &FxHashMap<Key, V>) -> Vec<(Key, V)> {
    let mut v: Vec<(Key, V)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
    v.sort_by_key(|(k, _)| *k);
    v
}

impl State {
    /// Encode (see the module docs). Equal states give equal bytes.
    pub fn save(&self) -> Vec<u8> {
        let v1 = EncodedV1 {
            resolution_ms: self.resolution_ms,
            watermark_ms: self.watermark_ms,
            settled_bucket: self.settled_bucket,
            rules: self
                .rules
                .iter()
                .map(|(n, m)| (n.clone(), sorted(m)))
                .collect(),
            offences: sorted(&self.offences),
            profiles: sorted(&self.profiles),
            processed: self
                .processed
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            active: self.active.iter().copied().collect(),
            blocklist: self.blocklist.clone(),
            per_minute: self.per_minute.iter().map(|(k, v)| (*k, *v)).collect(),
            late_total: self.late_total,
            // JSON inside: the last run holds report data (f64, options) that postcard handles
            // too, but JSON keeps it readable with `strings` when debugging a state.
            last_run: serde_json::to_vec(&self.last_run).unwrap_or_default(),
            ip_sets: self
                .ip_sets
                .iter()
                .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                .collect(),
        };
        let mut presence: Vec<(Key, u32)> = self.presence.iter().map(|(k, b)| (*k, *b)).collect();
        presence.sort_unstable();
        let enc = Encoded {
            v1,
            presence,
            extensions: self
                .extensions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend(postcard::to_stdvec(&enc).expect("in-memory encoding cannot fail"));
        out
    }

    /// Decode a state written by [`State::save`].
    pub fn load(bytes: &[u8]) -> Result<State, StateError> {
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(StateError::BadMagic)?;
        let (version, body) = body
            .split_at_checked(4)
            .ok_or_else(|| StateError::Corrupt("no version".into()))?;
        let found = u32::from_le_bytes(version.try_into().expect("4 bytes"));
        let corrupt = |e: postcard::Error| StateError::Corrupt(e.to_string());
        let (enc, presence, extensions) = match found {
            1 => (
                postcard::from_bytes::<EncodedV1>(body).map_err(corrupt)?,
                Vec::new(),
                Vec::new(),
            ),
            VERSION => {
                let e: Encoded = postcard::from_bytes(body).map_err(corrupt)?;
                (e.v1, e.presence, e.extensions)
            }
            found => return Err(StateError::Version { found }),
        };
        let last_run: LastRun = if enc.last_run.is_empty() {
            LastRun::default()
        } else {
            serde_json::from_slice(&enc.last_run)
                .map_err(|e| StateError::Corrupt(format!("last run: {e}")))?
        };
        for (_, keys) in &enc.rules {
            for (_, w) in keys {
                if w.buckets.windows(2).any(|p| p[0].0 >= p[1].0) {
                    return Err(StateError::Corrupt("buckets out of order".into()));
                }
            }
        }
        Ok(State {
            resolution_ms: enc.resolution_ms,
            watermark_ms: enc.watermark_ms,
            settled_bucket: enc.settled_bucket,
            rules: enc
                .rules
                .into_iter()
                .map(|(n, v)| (n, v.into_iter().collect()))
                .collect(),
            offences: enc.offences.into_iter().collect(),
            profiles: enc.profiles.into_iter().collect(),
            processed: enc.processed.into_iter().collect(),
            active: enc.active.into_iter().collect(),
            blocklist: enc.blocklist,
            per_minute: enc.per_minute.into_iter().collect(),
            late_total: enc.late_total,
            last_run,
            ip_sets: enc
                .ip_sets
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect(),
            presence: presence.into_iter().collect(),
            extensions: extensions.into_iter().collect(),
        })
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
    fn a_version_1_state_still_loads() {
        let mut s = State {
            watermark_ms: Some(5),
            late_total: 7,
            ..State::default()
        };
        s.processed.insert("s3://b/k#e".into(), 5);
        let v2 = s.save();
        // Version 1 is version 2's first field alone.
        let enc: Encoded = postcard::from_bytes(&v2[20..]).unwrap();
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.extend(postcard::to_stdvec(&enc.v1).unwrap());
        assert_eq!(State::load(&v1).unwrap(), s);
    }
}
