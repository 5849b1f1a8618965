//! A batch's counts as an immutable object: the map step's output, merged later by a reducer.
//!
//! An invocation that commits its own batch to the state pays for the whole state (decode,
//! decide, encode, write) however small the batch is, and concurrent invocations conflict on
//! the one state object. With partials, the work splits in two (DESIGN "Scale": "immutable
//! per-batch partials merged by a single reducer"):
//!
//! * **map** — an ingesting invocation reads its objects or stream records into tallies and
//!   writes them as one partial ([`encode`]): no state read, no conditional write, no conflict,
//!   a cost proportional to its batch;
//! * **reduce** — one reducer reads every pending partial ([`decode`]), judges lateness against
//!   the state it merges into ([`Partial::into_input`], the same [`Tally::make_late_before`] a
//!   direct read applies), skips ids the state already processed, and commits once for all.
//!
//! # Semantics
//!
//! Merging is commutative, so partials reduced in any order and in any grouping give the
//! counts a direct commit gives. An object or stream batch is counted once: its id goes into
//! the state's processed ids when its partial is reduced, and a partial holding an id the state
//! (or an earlier partial of the same reduction) already has is skipped for that object. The
//! one difference from reading against the state: lateness is judged against the state at
//! reduction, a few seconds newer than at reading, so a record at the very edge of its
//! source's line may be late here and not there (both are the same rule applied at a time).
//!
//! # Encoding
//!
//! `FLOODGATE-PART\n\0`, a little-endian `u32` version, then postcard. Rules are named, so a
//! partial written before a configuration change is merged rule by rule by name (a rule it
//! does not know counts nothing from it). Decoding trusts nothing: buckets must be strictly
//! increasing, sketches valid, formats known; anything else is [`PartialError`], never a panic.

use crate::config::Config;
use crate::engine::RunInput;
use crate::ingest::FileSummary;
use crate::key::Key;
use crate::lateness::LateLines;
use crate::request::Format;
use crate::sketch::TopK;
use crate::state::State;
use crate::tally::{Counts, Profile, Tally};
use crate::window::Buckets;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// First bytes of every partial.
pub const MAGIC: &[u8; 16] = b"FLOODGATE-PART\n\0";
/// The encoding version this build writes and reads.
pub const VERSION: u32 = 1;

/// Why a partial could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PartialError {
    /// Not a partial, or another version.
    #[error("not a floodgate partial of version {VERSION} (bad magic or version)")]
    NotAPartial,
    /// Damaged bytes or broken invariants.
    #[error("corrupt partial: {0}")]
    Corrupt(String),
}

/// One object or stream batch read, as the reducer merges it.
#[derive(Clone, Debug, PartialEq)]
pub struct PartialObject {
    /// Processed id (object id or stream batch id).
    pub id: String,
    /// What the reader saw (for the report's `files[]`).
    pub summary: FileSummary,
    /// Its counts, lateness not yet judged.
    pub tally: Tally,
}

/// A decoded partial.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Partial {
    /// Objects read.
    pub objects: Vec<PartialObject>,
    /// Ids the ingesting invocation skipped (for the report).
    pub skipped: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct CountsCode {
    key: Key,
    #[serde(with = "crate::state::delta")]
    buckets: Buckets,
    total: u32,
}

#[derive(Serialize, Deserialize)]
struct ProfileCode {
    key: Key,
    first_ms: i64,
    last_ms: i64,
    requests: u64,
    country: Option<String>,
    paths: Vec<(String, u64, u64)>,
    user_agents: Vec<(String, u64, u64)>,
}

#[derive(Serialize, Deserialize)]
struct TallyCode {
    rules: Vec<(String, Vec<CountsCode>)>,
    profiles: Vec<ProfileCode>,
    records: u64,
    allowlisted: u64,
    late: u64,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    per_minute: Vec<(u32, u64)>,
    #[serde(with = "crate::state::delta")]
    per_bucket: Buckets,
    sources: Vec<(String, i64)>,
    presence: Vec<(Key, u32)>,
}

#[derive(Serialize, Deserialize)]
struct ObjectCode {
    id: String,
    summary: FileSummary,
    tally: TallyCode,
}

#[derive(Serialize, Deserialize)]
struct PartialCode {
    objects: Vec<ObjectCode>,
    skipped: Vec<String>,
}

fn sketch_code(t: &TopK) -> Vec<(String, u64, u64)> {
    t.entries()
        .iter()
        .map(|(v, c, e)| (v.to_string(), *c, *e))
        .collect()
}

fn tally_code(config: &Config, t: &Tally) -> TallyCode {
    let mut rules = Vec::with_capacity(t.rules.len());
    for (rule, map) in config.rules.iter().zip(&t.rules) {
        let mut v: Vec<CountsCode> = map
            .iter()
            .map(|(k, c)| CountsCode {
                key: *k,
                buckets: c.buckets.clone(),
                total: c.total,
            })
            .collect();
        v.sort_unstable_by_key(|c| c.key);
        rules.push((rule.name.clone(), v));
    }
    let mut profiles: Vec<ProfileCode> = t
        .profiles
        .iter()
        .map(|(k, p)| ProfileCode {
            key: *k,
            first_ms: p.first_ms,
            last_ms: p.last_ms,
            requests: p.requests,
            country: p.country.clone(),
            paths: sketch_code(&p.paths),
            user_agents: sketch_code(&p.user_agents),
        })
        .collect();
    profiles.sort_unstable_by_key(|p| p.key);
    let mut presence: Vec<(Key, u32)> = t.presence.iter().map(|(k, b)| (*k, *b)).collect();
    presence.sort_unstable();
    TallyCode {
        rules,
        profiles,
        records: t.records,
        allowlisted: t.allowlisted,
        late: t.late,
        first_ms: t.first_ms,
        last_ms: t.last_ms,
        per_minute: t.per_minute.iter().map(|(m, n)| (*m, *n)).collect(),
        per_bucket: t.per_bucket.clone(),
        sources: t
            .sources
            .iter()
            .map(|(f, m)| (f.as_str().to_string(), *m))
            .collect(),
        presence,
    }
}

/// Encode the objects of one batch (ids, summaries, tallies counted with `config`). Equal
/// batches give equal bytes.
pub fn encode<'a>(
    config: &Config,
    objects: impl IntoIterator<Item = (&'a str, &'a FileSummary, &'a Tally)>,
    skipped: &[String],
) -> Vec<u8> {
    let code = PartialCode {
        objects: objects
            .into_iter()
            .map(|(id, summary, tally)| ObjectCode {
                id: id.to_string(),
                summary: summary.clone(),
                tally: tally_code(config, tally),
            })
            .collect(),
        skipped: skipped.to_vec(),
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend(VERSION.to_le_bytes());
    bytes.extend(postcard::to_stdvec(&code).expect("in-memory encoding cannot fail"));
    bytes
}

fn corrupt(why: impl std::fmt::Display) -> PartialError {
    PartialError::Corrupt(why.to_string())
}

fn sketch(entries: Vec<(String, u64, u64)>) -> Result<TopK, PartialError> {
    let entries = entries
        .into_iter()
        .map(|(s, c, e)| (Arc::<str>::from(s), c, e))
        .collect();
    TopK::from_entries(entries).ok_or_else(|| corrupt("profile sketch invalid"))
}

fn tally(config: &Config, code: TallyCode) -> Result<Tally, PartialError> {
    let mut t = Tally::new(config, 0);
    let mut by_name: FxHashMap<String, Vec<CountsCode>> = code.rules.into_iter().collect();
    for (i, rule) in config.rules.iter().enumerate() {
        for c in by_name.remove(&rule.name).unwrap_or_default() {
            if c.buckets.is_empty() {
                return Err(corrupt("a key without buckets"));
            }
            let counts = Counts {
                buckets: c.buckets,
                total: c.total,
            };
            if t.rules[i].insert(c.key, counts).is_some() {
                return Err(corrupt("a key twice in one rule"));
            }
        }
    }
    for p in code.profiles {
        let profile = Profile {
            first_ms: p.first_ms,
            last_ms: p.last_ms,
            requests: p.requests,
            country: p.country,
            paths: sketch(p.paths)?,
            user_agents: sketch(p.user_agents)?,
        };
        t.profiles.insert(p.key, profile);
    }
    t.records = code.records;
    t.allowlisted = code.allowlisted;
    t.late = code.late;
    t.first_ms = code.first_ms;
    t.last_ms = code.last_ms;
    t.per_minute = code.per_minute.into_iter().collect();
    t.per_bucket = code.per_bucket;
    for (name, m) in code.sources {
        let f = Format::from_name(&name).ok_or_else(|| corrupt(format!("format {name:?}")))?;
        t.sources.insert(f, m);
    }
    t.presence = code.presence.into_iter().collect();
    Ok(t)
}

/// Decode a partial written by [`encode`], its tallies laid out for `config`'s rules.
pub fn decode(config: &Config, bytes: &[u8]) -> Result<Partial, PartialError> {
    let body = bytes
        .strip_prefix(MAGIC.as_slice())
        .and_then(|rest| rest.split_at_checked(4))
        .filter(|(v, _)| *v == VERSION.to_le_bytes())
        .map(|(_, body)| body)
        .ok_or(PartialError::NotAPartial)?;
    let (code, rest): (PartialCode, &[u8]) = postcard::take_from_bytes(body).map_err(corrupt)?;
    if !rest.is_empty() {
        return Err(corrupt("bytes after the end"));
    }
    let mut objects = Vec::with_capacity(code.objects.len());
    for o in code.objects {
        objects.push(PartialObject {
            id: o.id,
            summary: o.summary,
            tally: tally(config, o.tally)?,
        });
    }
    Ok(Partial {
        objects,
        skipped: code.skipped,
    })
}

impl Partial {
    /// Add `more` (another partial of the same reduction).
    pub fn extend(&mut self, more: Partial) {
        self.objects.extend(more.objects);
        self.skipped.extend(more.skipped);
    }

    /// The run input against `state`: objects in id order, each judged late against its
    /// source's line in `state`; ids `state` processed, and repeats of an id, are skipped.
    pub fn into_input(mut self, config: &Config, state: &State) -> RunInput {
        let late = LateLines::of(config, state);
        let mut input = RunInput::new(config, state);
        for id in self.skipped {
            input.skip(id);
        }
        self.objects.sort_by(|a, b| a.id.cmp(&b.id));
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for mut o in self.objects {
            if state.is_processed(&o.id) || !seen.insert(o.id.clone()) {
                input.skip(o.id);
                continue;
            }
            o.tally.make_late_before(late.line(o.summary.format));
            input.add(o.id, o.summary, o.tally);
        }
        input
    }
}

#[cfg(test)]
#[path = "partial_tests.rs"]
mod tests;
