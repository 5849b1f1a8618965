//! The state's bytes: `MAGIC`, a little-endian `u32` version, a postcard body.
//!
//! Version 2 (this build writes it):
//!
//! * maps are written sorted, from references (no copy of the state);
//! * window buckets are deltas (`(first bucket, count)`, then `(gap, count)`): an attacker's 60
//!   buckets cost 2 bytes each instead of 6;
//! * profile strings (paths, user agents) are written once in a table and referred to by
//!   index; after loading, each distinct string is one shared allocation;
//! * the previous decision's keys and blocklist are postcard, the rest of the last run JSON.
//!
//! Version 1 (no presence map, plain buckets, profile strings inline, the whole last run JSON)
//! is still read. Decoding never trusts a length: every collection grows as it is read, and
//! every invariant the engine relies on (buckets strictly increasing, sketch counts at least
//! their error, string indices in the table) is checked.

use super::{KeyWindow, LastRun, State, StateError, MAGIC, VERSION};
use crate::decision::{Blocklist, Offence};
use crate::history::{self, History};
use crate::key::Key;
use crate::keymap::KeyMap;
use crate::sketch::TopK;
use crate::tally::Profile;
use crate::window::Buckets;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Window buckets as deltas (used through `#[serde(with)]` on [`KeyWindow::buckets`]).
pub mod delta {
    use crate::window::Buckets;
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// `(first bucket, count)`, then `(gap to the previous bucket, count)`.
    pub fn serialize<S: Serializer>(b: &Buckets, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(b.len()))?;
        let mut prev = 0u32;
        for (i, &(bucket, count)) in b.iter().enumerate() {
            let gap = if i == 0 { bucket } else { bucket - prev };
            seq.serialize_element(&(gap, count))?;
            prev = bucket;
        }
        seq.end()
    }

    /// The inverse; gaps of 0 (unsorted or duplicate buckets) and overflows are errors.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Buckets, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Buckets;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("delta-encoded buckets")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Buckets, A::Error> {
                let mut out = Buckets::new();
                let mut prev = 0u32;
                while let Some((gap, count)) = seq.next_element::<(u32, u32)>()? {
                    let bucket = if out.is_empty() {
                        gap
                    } else if gap == 0 {
                        return Err(A::Error::custom("buckets out of order"));
                    } else {
                        prev.checked_add(gap)
                            .ok_or_else(|| A::Error::custom("bucket overflow"))?
                    };
                    out.push((bucket, count));
                    prev = bucket;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V)
    }
}

/// A profile with its strings as indices into the state's table.
#[derive(Serialize, Deserialize)]
struct ProfileCode {
    first_ms: i64,
    last_ms: i64,
    requests: u64,
    country: Option<String>,
    paths: Vec<(u32, u64, u64)>,
    user_agents: Vec<(u32, u64, u64)>,
}

#[derive(Serialize)]
struct Out<'a> {
    resolution_ms: i64,
    watermark_ms: Option<i64>,
    settled_bucket: u32,
    rules: Vec<(&'a String, Vec<(&'a Key, &'a KeyWindow)>)>,
    offences: Vec<(&'a Key, &'a Vec<Offence>)>,
    strings: Vec<&'a str>,
    profiles: Vec<(&'a Key, ProfileCode)>,
    processed: &'a BTreeMap<String, i64>,
    active: &'a BTreeSet<Key>,
    blocklist: &'a Blocklist,
    per_minute: &'a BTreeMap<u32, u64>,
    late_total: u64,
    prev_active: &'a BTreeSet<Key>,
    prev_blocklist: &'a Blocklist,
    /// Bytes, not a sequence of u8: postcard writes both as length + raw bytes (the format is
    /// unchanged), but serde walks a sequence element by element, which was the largest single
    /// cost of saving a state after a busy run.
    #[serde(with = "serde_bytes")]
    last_run: Vec<u8>,
    ip_sets: &'a BTreeMap<String, BTreeSet<String>>,
    presence: Vec<(&'a Key, &'a u32)>,
    reports_ms: Option<i64>,
    undelivered: &'a BTreeMap<String, Vec<String>>,
    extensions: &'a BTreeMap<String, Vec<u8>>,
}

#[derive(Deserialize)]
struct In {
    resolution_ms: i64,
    watermark_ms: Option<i64>,
    settled_bucket: u32,
    rules: Vec<(String, Vec<(Key, KeyWindow)>)>,
    offences: Vec<(Key, Vec<Offence>)>,
    strings: Vec<String>,
    profiles: Vec<(Key, ProfileCode)>,
    processed: BTreeMap<String, i64>,
    active: BTreeSet<Key>,
    blocklist: Blocklist,
    per_minute: BTreeMap<u32, u64>,
    late_total: u64,
    prev_active: BTreeSet<Key>,
    prev_blocklist: Blocklist,
    #[serde(with = "serde_bytes")]
    last_run: Vec<u8>,
    ip_sets: BTreeMap<String, BTreeSet<String>>,
    presence: Vec<(Key, u32)>,
    reports_ms: Option<i64>,
    undelivered: BTreeMap<String, Vec<String>>,
    extensions: BTreeMap<String, Vec<u8>>,
}

/// A map's entries by key (a `FxHashMap`'s or a [`KeyMap`]'s iterator).
fn sorted<'a, V>(m: impl IntoIterator<Item = (&'a Key, &'a V)>) -> Vec<(&'a Key, &'a V)> {
    let mut v: Vec<(&Key, &V)> = m.into_iter().collect();
    v.sort_unstable_by_key(|(k, _)| **k);
    v
}

/// Profile strings, each written once.
#[derive(Default)]
struct Table<'a> {
    ids: FxHashMap<&'a str, u32>,
    strings: Vec<&'a str>,
}

impl<'a> Table<'a> {
    fn code(&mut self, t: &'a TopK) -> Vec<(u32, u64, u64)> {
        t.entries()
            .iter()
            .map(|(v, c, e)| {
                let s: &'a str = v;
                let id = *self.ids.entry(s).or_insert_with(|| {
                    self.strings.push(s);
                    self.strings.len() as u32 - 1
                });
                (id, *c, *e)
            })
            .collect()
    }
}

/// Encode (see the module docs). Equal states give equal bytes.
pub(super) fn save(state: &State) -> Vec<u8> {
    // The network history travels as an extension section (see `crate::history`): states
    // written before it load, and builds that do not know it keep it.
    let with_sections;
    let extensions = if state.history.is_empty()
        && state.config.is_none()
        && state.sources.is_empty()
        && state.manual.is_empty()
    {
        &state.extensions
    } else {
        let mut e = state.extensions.clone();
        if !state.history.is_empty() {
            e.insert(history::SECTION.to_string(), state.history.encode());
        }
        if let Some(c) = &state.config {
            e.insert(
                super::CONFIG_SECTION.to_string(),
                serde_json::to_vec(c).unwrap_or_default(),
            );
        }
        if !state.sources.is_empty() {
            e.insert(
                super::SOURCES_SECTION.to_string(),
                serde_json::to_vec(&state.sources).unwrap_or_default(),
            );
        }
        if !state.manual.is_empty() {
            e.insert(
                crate::manual::SECTION.to_string(),
                serde_json::to_vec(&state.manual).unwrap_or_default(),
            );
        }
        with_sections = e;
        &with_sections
    };
    let profiles = sorted(&state.profiles);
    let mut table = Table::default();
    let coded: Vec<(&Key, ProfileCode)> = profiles
        .iter()
        .map(|(k, p)| {
            let paths = table.code(&p.paths);
            let user_agents = table.code(&p.user_agents);
            (
                *k,
                ProfileCode {
                    first_ms: p.first_ms,
                    last_ms: p.last_ms,
                    requests: p.requests,
                    country: p.country.clone(),
                    paths,
                    user_agents,
                },
            )
        })
        .collect();
    let out = Out {
        resolution_ms: state.resolution_ms,
        watermark_ms: state.watermark_ms,
        settled_bucket: state.settled_bucket,
        rules: state.rules.iter().map(|(n, m)| (n, sorted(m))).collect(),
        offences: sorted(&state.offences),
        strings: table.strings,
        profiles: coded,
        processed: &state.processed,
        active: &state.active,
        blocklist: &state.blocklist,
        per_minute: &state.per_minute,
        late_total: state.late_total,
        prev_active: &state.last_run.prev_active,
        prev_blocklist: &state.last_run.prev_blocklist,
        // JSON inside: the rest of the last run holds report data (f64, options); JSON keeps
        // it readable with `strings` when debugging a state.
        last_run: serde_json::to_vec(&state.last_run).unwrap_or_default(),
        ip_sets: &state.ip_sets,
        presence: sorted(&state.presence),
        reports_ms: state.reports_ms,
        undelivered: &state.undelivered,
        extensions,
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend(postcard::to_stdvec(&out).expect("in-memory encoding cannot fail"));
    bytes
}

fn corrupt(e: impl std::fmt::Display) -> StateError {
    StateError::Corrupt(e.to_string())
}

fn topk(strings: &[Arc<str>], entries: Vec<(u32, u64, u64)>) -> Result<TopK, StateError> {
    let entries = entries
        .into_iter()
        .map(|(i, c, e)| {
            strings
                .get(i as usize)
                .map(|s| (s.clone(), c, e))
                .ok_or_else(|| corrupt("profile string index out of range"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    TopK::from_entries(entries).ok_or_else(|| corrupt("profile sketch invalid"))
}

/// Decode a state written by [`save`] (version 2) or by a version-1 build.
pub(super) fn load(bytes: &[u8]) -> Result<State, StateError> {
    let body = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or(StateError::BadMagic)?;
    let (version, body) = body
        .split_at_checked(4)
        .ok_or_else(|| StateError::Corrupt("no version".into()))?;
    let found = u32::from_le_bytes(version.try_into().expect("4 bytes"));
    match found {
        1 => return v1::load(body),
        VERSION => {}
        found => return Err(StateError::Version { found }),
    }
    let i: In = postcard::from_bytes(body).map_err(corrupt)?;
    let strings: Vec<Arc<str>> = i.strings.into_iter().map(Arc::from).collect();
    let mut profiles = FxHashMap::default();
    profiles.reserve(i.profiles.len());
    for (k, p) in i.profiles {
        profiles.insert(
            k,
            Profile {
                first_ms: p.first_ms,
                last_ms: p.last_ms,
                requests: p.requests,
                country: p.country,
                paths: topk(&strings, p.paths)?,
                user_agents: topk(&strings, p.user_agents)?,
            },
        );
    }
    let mut last_run: LastRun = if i.last_run.is_empty() {
        LastRun::default()
    } else {
        serde_json::from_slice(&i.last_run).map_err(|e| corrupt(format!("last run: {e}")))?
    };
    last_run.prev_active = i.prev_active;
    last_run.prev_blocklist = i.prev_blocklist;
    let mut extensions = i.extensions;
    let history = match extensions.remove(history::SECTION) {
        Some(bytes) => History::decode(&bytes).map_err(corrupt)?,
        None => History::default(),
    };
    let config = match extensions.remove(super::CONFIG_SECTION) {
        Some(bytes) => Some(
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("config section: {e}")))?,
        ),
        None => None,
    };
    let sources = match extensions.remove(super::SOURCES_SECTION) {
        Some(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("sources section: {e}")))?
        }
        None => BTreeMap::new(),
    };
    let manual = match extensions.remove(crate::manual::SECTION) {
        Some(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("manual section: {e}")))?
        }
        None => crate::manual::Manual::default(),
    };
    Ok(State {
        resolution_ms: i.resolution_ms,
        watermark_ms: i.watermark_ms,
        settled_bucket: i.settled_bucket,
        rules: i
            .rules
            .into_iter()
            .map(|(n, v)| (n, KeyMap::from_entries(v)))
            .collect(),
        offences: i.offences.into_iter().collect(),
        profiles,
        processed: i.processed,
        active: i.active,
        blocklist: i.blocklist,
        per_minute: i.per_minute,
        late_total: i.late_total,
        last_run,
        ip_sets: i.ip_sets,
        presence: i.presence.into_iter().collect(),
        reports_ms: i.reports_ms,
        undelivered: i.undelivered,
        extensions,
        history,
        config,
        sources,
        manual,
    })
}

/// Reading states of version 1.
mod v1 {
    use super::*;

    #[derive(Deserialize)]
    struct KeyWindowV1 {
        buckets: Buckets,
        peak: u32,
        reset: Option<u32>,
    }

    #[derive(Deserialize)]
    struct TopKV1 {
        entries: Vec<(String, u64, u64)>,
    }

    #[derive(Deserialize)]
    struct ProfileV1 {
        first_ms: i64,
        last_ms: i64,
        requests: u64,
        country: Option<String>,
        paths: TopKV1,
        user_agents: TopKV1,
    }

    #[derive(Deserialize)]
    struct EncodedV1 {
        resolution_ms: i64,
        watermark_ms: Option<i64>,
        settled_bucket: u32,
        rules: Vec<(String, Vec<(Key, KeyWindowV1)>)>,
        offences: Vec<(Key, Vec<Offence>)>,
        profiles: Vec<(Key, ProfileV1)>,
        processed: Vec<(String, i64)>,
        active: Vec<Key>,
        blocklist: Blocklist,
        per_minute: Vec<(u32, u64)>,
        late_total: u64,
        last_run: Vec<u8>,
        ip_sets: Vec<(String, Vec<String>)>,
    }

    /// The previous decision, which version 1 kept inside the last run's JSON.
    #[derive(Deserialize, Default)]
    struct PreviousV1 {
        #[serde(default)]
        prev_active: BTreeSet<Key>,
        #[serde(default)]
        prev_blocklist: Blocklist,
    }

    fn topk(t: TopKV1) -> Result<TopK, StateError> {
        TopK::from_entries(
            t.entries
                .into_iter()
                .map(|(s, c, e)| (Arc::from(s), c, e))
                .collect(),
        )
        .ok_or_else(|| corrupt("profile sketch invalid"))
    }

    pub(super) fn load(body: &[u8]) -> Result<State, StateError> {
        let enc: EncodedV1 = postcard::from_bytes(body).map_err(corrupt)?;
        let (mut last_run, prev): (LastRun, PreviousV1) = if enc.last_run.is_empty() {
            Default::default()
        } else {
            let json = |e: serde_json::Error| corrupt(format!("last run: {e}"));
            (
                serde_json::from_slice(&enc.last_run).map_err(json)?,
                serde_json::from_slice(&enc.last_run).map_err(json)?,
            )
        };
        last_run.prev_active = prev.prev_active;
        last_run.prev_blocklist = prev.prev_blocklist;
        let mut rules = BTreeMap::new();
        for (name, keys) in enc.rules {
            let mut map = KeyMap::new();
            for (k, w) in keys {
                if w.buckets.windows(2).any(|p| p[0].0 >= p[1].0) {
                    return Err(corrupt("buckets out of order"));
                }
                map.insert(
                    k,
                    KeyWindow {
                        buckets: w.buckets,
                        peak: w.peak,
                        reset: w.reset,
                    },
                );
            }
            rules.insert(name, map);
        }
        let mut profiles = FxHashMap::default();
        for (k, p) in enc.profiles {
            profiles.insert(
                k,
                Profile {
                    first_ms: p.first_ms,
                    last_ms: p.last_ms,
                    requests: p.requests,
                    country: p.country,
                    paths: topk(p.paths)?,
                    user_agents: topk(p.user_agents)?,
                },
            );
        }
        Ok(State {
            resolution_ms: enc.resolution_ms,
            watermark_ms: enc.watermark_ms,
            settled_bucket: enc.settled_bucket,
            rules,
            offences: enc.offences.into_iter().collect(),
            profiles,
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
            presence: FxHashMap::default(),
            reports_ms: None,
            undelivered: BTreeMap::new(),
            extensions: BTreeMap::new(),
            history: History::default(),
            config: None,
            sources: BTreeMap::new(),
            manual: Default::default(),
        })
    }

    #[cfg(test)]
    pub(super) mod write {
        //! Version 1's writer, kept for the migration test only.
        use super::super::*;
        use serde::Serialize;

        #[derive(Serialize)]
        struct KeyWindowV1<'a> {
            buckets: &'a Buckets,
            peak: u32,
            reset: Option<u32>,
        }

        #[derive(Serialize)]
        struct EncodedV1<'a> {
            resolution_ms: i64,
            watermark_ms: Option<i64>,
            settled_bucket: u32,
            rules: Vec<(&'a String, Vec<(&'a Key, KeyWindowV1<'a>)>)>,
            offences: Vec<(&'a Key, &'a Vec<Offence>)>,
            profiles: Vec<(&'a Key, &'a Profile)>,
            processed: Vec<(&'a String, i64)>,
            active: Vec<Key>,
            blocklist: &'a Blocklist,
            per_minute: Vec<(u32, u64)>,
            late_total: u64,
            last_run: Vec<u8>,
            ip_sets: Vec<(&'a String, Vec<&'a String>)>,
        }

        pub fn save_v1(s: &State) -> Vec<u8> {
            let mut last_run = serde_json::to_value(&s.last_run).unwrap();
            last_run["prev_active"] = serde_json::to_value(&s.last_run.prev_active).unwrap();
            last_run["prev_blocklist"] = serde_json::to_value(&s.last_run.prev_blocklist).unwrap();
            let enc = EncodedV1 {
                resolution_ms: s.resolution_ms,
                watermark_ms: s.watermark_ms,
                settled_bucket: s.settled_bucket,
                rules: s
                    .rules
                    .iter()
                    .map(|(n, m)| {
                        let v = sorted(m)
                            .into_iter()
                            .map(|(k, w)| {
                                (
                                    k,
                                    KeyWindowV1 {
                                        buckets: &w.buckets,
                                        peak: w.peak,
                                        reset: w.reset,
                                    },
                                )
                            })
                            .collect();
                        (n, v)
                    })
                    .collect(),
                offences: sorted(&s.offences),
                profiles: sorted(&s.profiles),
                processed: s.processed.iter().map(|(k, v)| (k, *v)).collect(),
                active: s.active.iter().copied().collect(),
                blocklist: &s.blocklist,
                per_minute: s.per_minute.iter().map(|(k, v)| (*k, *v)).collect(),
                late_total: s.late_total,
                last_run: serde_json::to_vec(&last_run).unwrap(),
                ip_sets: s
                    .ip_sets
                    .iter()
                    .map(|(k, v)| (k, v.iter().collect()))
                    .collect(),
            };
            let mut out = MAGIC.to_vec();
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend(postcard::to_stdvec(&enc).unwrap());
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `last_run` moved from a `Vec<u8>` sequence to `serde_bytes`: postcard must write the
    /// same bytes for both, or states saved before the change would not load.
    #[test]
    fn bytes_and_byte_sequences_encode_alike() {
        #[derive(Serialize)]
        struct Seq(Vec<u8>);
        #[derive(Serialize)]
        struct Bytes(#[serde(with = "serde_bytes")] Vec<u8>);
        for len in [0usize, 1, 127, 128, 300, 70_000] {
            let v: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            assert_eq!(
                postcard::to_stdvec(&Seq(v.clone())).unwrap(),
                postcard::to_stdvec(&Bytes(v)).unwrap(),
                "{len} bytes"
            );
        }
    }

    fn sample() -> State {
        let mut s = State {
            resolution_ms: 1000,
            watermark_ms: Some(5_000_000),
            settled_bucket: 4_000,
            late_total: 7,
            ..State::default()
        };
        let k = Key::from_ip("203.0.113.9".parse().unwrap(), 32, 64);
        let mut w = KeyWindow {
            peak: 12,
            reset: Some(4_100),
            ..KeyWindow::default()
        };
        for b in [4_090u32, 4_091, 4_200, 4_999] {
            crate::window::add(&mut w.buckets, b, 3);
        }
        s.rules.entry("flood".into()).or_default().insert(k, w);
        let mut p = Profile {
            first_ms: 1,
            last_ms: 2,
            requests: 3,
            country: Some("DE".into()),
            ..Profile::default()
        };
        p.paths.add("/login");
        p.paths.add("/login");
        p.user_agents.add("curl/8");
        s.profiles.insert(k, p);
        s.processed.insert("s3://b/k#e".into(), 5);
        s.active.insert(k);
        s.blocklist.ipv4.push("203.0.113.9/32".into());
        s.last_run.prev_active.insert(k);
        s.last_run
            .prev_blocklist
            .ipv4
            .push("198.51.100.1/32".into());
        s.last_run.records = 42;
        s.ip_sets
            .insert("id4".into(), ["203.0.113.9/32".to_string()].into());
        s.presence.insert(k, 4_999);
        s.reports_ms = Some(9);
        s.undelivered.insert("notify".into(), vec!["body".into()]);
        s.extensions.insert("x".into(), vec![1, 2, 3]);
        s
    }

    #[test]
    fn round_trips_byte_for_byte() {
        let s = sample();
        let bytes = save(&s);
        let back = load(&bytes).unwrap();
        assert_eq!(back, s);
        assert_eq!(save(&back), bytes);
    }

    #[test]
    fn a_version_1_state_still_loads() {
        let mut s = sample();
        s.presence.clear();
        s.reports_ms = None;
        s.undelivered.clear();
        s.extensions.clear();
        let v1 = v1::write::save_v1(&s);
        assert_eq!(&v1[16..20], &1u32.to_le_bytes());
        assert_eq!(load(&v1).unwrap(), s);
    }

    #[test]
    fn broken_invariants_are_corrupt_not_panics() {
        // Buckets that do not increase: a gap of 0 after the first.
        let mut s = State::default();
        let k = Key::from_ip("192.0.2.1".parse().unwrap(), 32, 64);
        s.rules.entry("r".into()).or_default().insert(
            k,
            KeyWindow {
                buckets: [(5, 1), (6, 1)].into_iter().collect(),
                ..KeyWindow::default()
            },
        );
        let mut bytes = save(&s);
        // The rule's key window: (5, 1), (1, 1) → make the second gap 0.
        let pos = bytes
            .windows(4)
            .rposition(|w| w == [5, 1, 1, 1])
            .expect("delta pairs in the body");
        bytes[pos + 2] = 0;
        assert!(matches!(load(&bytes), Err(StateError::Corrupt(_))));
    }
}
