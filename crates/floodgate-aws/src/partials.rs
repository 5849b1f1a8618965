//! Partials on S3: ingesting invocations write their counts, one reducer commits them.
//!
//! ```text
//! ingest (any concurrency)                     reducer (S3 notification of the prefix)
//! read objects → tallies ──PUT──▶ partials/…  ──▶ LIST → GET each → merge → decide
//!                 (no state read, no condition)        → conditional PUT of the state
//!                                                      → IP sets, reports → DELETE merged
//! ```
//!
//! An ingesting invocation's cost is its batch (read, encode, one PUT): K of them never
//! conflict. The reducer pays for the state once per cycle, however many partials it merges,
//! so its cost per log object falls as the flow grows.
//!
//! **One reducer at a time, nothing left behind.** Every partial's notification starts a
//! reducer invocation. It takes the reducer's lease ([`Partials::acquire`], a small object
//! written with conditional puts, valid [`LEASE_MS`] unless renewed) or returns at once: an
//! SQS event source runs at least two invocations, and two reducers would only conflict on the
//! state and decode it twice. The holder merges every pending partial, again and again while
//! new ones arrived during its cycle, releases the lease, and lists once more: a partial whose
//! reducer found the lease taken was written before that attempt, so before the release, so
//! this last list sees it, and the holder takes the lease again. (Without the lease, two
//! reducers are still correct: the state's conditional write makes the second find the ids
//! already processed.) A reducer that dies between its commit and its deletes leaves partials
//! whose ids the state already has: the next one skips and deletes them; one that dies holding
//! the lease holds it for [`LEASE_MS`], and the schedule reduces what waited. See
//! [`floodgate_core::partial`] for the semantics of a merge.

use crate::objects::{ObjectStore, PutCondition, StoreError};
use crate::read::Pending;
use crate::retry::RetryPolicy;
use crate::state_store::{apply_input, update_from, StateBackend, StateStoreError, Updated};
use floodgate_core::config::{Config, ConfigSource};
use floodgate_core::decision::Decision;
use floodgate_core::partial::{self, Partial};
use floodgate_core::state::streams::{is_stream_id, payload_id};
use floodgate_core::state::State;
use std::collections::BTreeMap;
use tokio::task::JoinSet;

/// Partials one reduction merges at most (the rest wait for the next cycle, which their own
/// notifications start): bounds a reducer's memory whatever the backlog.
pub const MAX_PARTIALS_PER_CYCLE: usize = 2_000;

/// How long a reducer's lease is valid unless renewed (a cycle renews it; one on a
/// botnet-sized state takes about a second).
pub const LEASE_MS: i64 = 60_000;

/// Where partials are written: a prefix of the state bucket.
#[derive(Clone)]
pub struct Partials<S> {
    /// The store.
    pub store: S,
    /// The state bucket.
    pub bucket: String,
    /// Key prefix, e.g. `partials/`.
    pub prefix: String,
    /// The reducer's lease object (outside the prefix: it is not a partial).
    pub lease_key: String,
    /// The streams head: the state's stream batch ids, written by the reducer after each
    /// commit, so a Kinesis reading invocation learns its shard's committed ranges without
    /// decoding the state ([`Partials::read_head`]).
    pub head_key: String,
}

/// A held lease: the ETag of the lease object as this reducer wrote it.
#[derive(Debug)]
pub struct Lease {
    etag: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LeaseBody {
    holder: String,
    until_ms: i64,
}

/// What one reduction did.
#[derive(Debug, Default)]
pub struct Reduced {
    /// The commit, when any partial was pending (its `written` is false when every id in them
    /// was processed before).
    pub done: Option<Updated<Decision>>,
    /// Partials merged (and deleted).
    pub merged: usize,
    /// Partials that could not be read or decoded, `(key, why)`: left in place (the caller
    /// logs them; a lifecycle rule of the prefix expires them).
    pub damaged: Vec<(String, String)>,
    /// Why the merged partials could not be deleted (harmless: see the module docs).
    pub undeleted: Option<StoreError>,
    /// Whether more partials were pending than one cycle merges.
    pub more: bool,
}

impl<S: ObjectStore> Partials<S> {
    /// Whether `key` (of the state bucket) is a partial.
    pub fn holds(&self, bucket: &str, key: &str) -> bool {
        bucket == self.bucket && key.starts_with(&self.prefix)
    }

    /// The key of a partial holding `ids`, written at `now_ms`: time-ordered (the reducer merges
    /// the oldest first), and the same for the same batch read again in the same millisecond.
    pub fn key_for(&self, now_ms: i64, ids: &[&str]) -> String {
        let hash = payload_id("part", ids);
        let hash = hash.rsplit(':').next().unwrap_or_default();
        format!("{}{:013}-{hash}.part", self.prefix, now_ms.max(0))
    }

    fn lease_body(holder: &str, until_ms: i64) -> Vec<u8> {
        serde_json::to_vec(&LeaseBody {
            holder: holder.to_string(),
            until_ms,
        })
        .unwrap_or_default()
    }

    async fn put_lease(
        &self,
        body: Vec<u8>,
        condition: PutCondition,
    ) -> Result<Option<Lease>, StoreError> {
        match self
            .store
            .put(
                &self.bucket,
                &self.lease_key,
                body,
                "application/json",
                condition,
            )
            .await
        {
            Ok(etag) => Ok(Some(Lease {
                etag: etag.unwrap_or_default(),
            })),
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Take the reducer's lease for `holder` until `now_ms + LEASE_MS`; `None` while another
    /// reducer holds it. An unreadable lease object counts as expired.
    pub async fn acquire(&self, holder: &str, now_ms: i64) -> Result<Option<Lease>, StoreError> {
        let body = Self::lease_body(holder, now_ms + LEASE_MS);
        match self.store.get(&self.bucket, &self.lease_key).await {
            Err(StoreError::NotFound(_)) => self.put_lease(body, PutCondition::IfAbsent).await,
            Err(e) => Err(e),
            Ok(o) => {
                let until = serde_json::from_slice::<LeaseBody>(&o.bytes).map_or(0, |l| l.until_ms);
                if until > now_ms {
                    return Ok(None);
                }
                let etag = o.etag.unwrap_or_default();
                self.put_lease(body, PutCondition::IfMatch(etag)).await
            }
        }
    }

    /// Extend a held lease; `false` when it was lost (expired and taken by another reducer).
    pub async fn renew(
        &self,
        lease: &mut Lease,
        holder: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let body = Self::lease_body(holder, now_ms + LEASE_MS);
        match self
            .put_lease(body, PutCondition::IfMatch(lease.etag.clone()))
            .await?
        {
            Some(l) => {
                *lease = l;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Give the lease up (a lost one is left to its new holder).
    pub async fn release(&self, lease: Lease, holder: &str) -> Result<(), StoreError> {
        let body = Self::lease_body(holder, 0);
        self.put_lease(body, PutCondition::IfMatch(lease.etag))
            .await?;
        Ok(())
    }

    /// Whether any partial other than `damaged` (keys a reduction could not merge) is pending.
    pub async fn any_pending(&self, damaged: &[String]) -> Result<bool, StoreError> {
        let listed = self.store.list(&self.bucket, &self.prefix).await?;
        Ok(listed.iter().any(|o| !damaged.contains(&o.key)))
    }

    /// Write the streams head of `state` (its stream batch ids); nothing when it has none.
    pub async fn write_head(&self, state: &State) -> Result<(), StoreError> {
        let ids: BTreeMap<&String, &i64> = state
            .processed
            .iter()
            .filter(|(id, _)| is_stream_id(id))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&ids).unwrap_or_default();
        self.store
            .put(
                &self.bucket,
                &self.head_key,
                body,
                "application/json",
                PutCondition::None,
            )
            .await
            .map(|_| ())
    }

    /// A state holding only the stream batch ids of the streams head (what
    /// `kinesis_ranges` reads), or `None` when there is no head (yet) or it does not parse:
    /// the caller then reads the state itself. It is at most one reducer cycle old: a batch
    /// whose partial is not merged yet is not in it, and a retry of that batch is the same
    /// batch id, which the reducer merges once.
    pub async fn read_head(&self) -> Result<Option<State>, StoreError> {
        let o = match self.store.get(&self.bucket, &self.head_key).await {
            Ok(o) => o,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Ok(ids) = serde_json::from_slice::<BTreeMap<String, i64>>(&o.bytes) else {
            return Ok(None);
        };
        Ok(Some(State {
            processed: ids.into_iter().filter(|(id, _)| is_stream_id(id)).collect(),
            ..State::default()
        }))
    }

    /// Write what `pending` read as one partial at `key`; `None` when it read nothing.
    pub async fn write(
        &self,
        config: &Config,
        pending: &Pending,
        key: String,
    ) -> Result<Option<String>, StoreError> {
        if pending.read.is_empty() {
            return Ok(None);
        }
        let bytes = partial::encode(
            config,
            pending
                .read
                .iter()
                .map(|o| (o.id.as_str(), &o.summary, &o.tally)),
            &pending.skipped,
        );
        self.store
            .put(
                &self.bucket,
                &key,
                bytes,
                "application/octet-stream",
                PutCondition::None,
            )
            .await?;
        Ok(Some(key))
    }

    /// Merge every pending partial (up to [`MAX_PARTIALS_PER_CYCLE`]) into the state behind
    /// `backend`, decide at `now_ms`, commit, then delete the partials merged.
    #[allow(clippy::too_many_arguments)]
    pub async fn reduce<B: StateBackend>(
        &self,
        backend: &B,
        policy: RetryPolicy,
        config: &Config,
        recorded: Option<&ConfigSource>,
        now_ms: i64,
        dry_run: bool,
    ) -> Result<Reduced, StateStoreError> {
        let listed = self
            .store
            .list(&self.bucket, &self.prefix)
            .await
            .map_err(|error| StateStoreError::Store {
                location: format!("s3://{}/{}", self.bucket, self.prefix),
                error,
            })?;
        let more = listed.len() > MAX_PARTIALS_PER_CYCLE;
        let mut reads = JoinSet::new();
        for (i, o) in listed.into_iter().take(MAX_PARTIALS_PER_CYCLE).enumerate() {
            let store = self.store.clone();
            reads.spawn(async move {
                let got = store.get(&o.bucket, &o.key).await;
                (i, o.key, got)
            });
        }
        let mut got = Vec::new();
        while let Some(r) = reads.join_next().await {
            if let Ok(r) = r {
                got.push(r);
            }
        }
        got.sort_by_key(|(i, _, _)| *i);
        let mut merged = Partial::default();
        let mut keys = Vec::new();
        let mut damaged = Vec::new();
        for (_, key, r) in got {
            let decoded = match r {
                Ok(o) => partial::decode(config, &o.bytes).map_err(|e| e.to_string()),
                // Deleted by another reducer after this one listed it: merged already.
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => Err(e.to_string()),
            };
            match decoded {
                Ok(p) => {
                    merged.extend(p);
                    keys.push(key);
                }
                Err(e) => {
                    damaged.push((key, e));
                }
            }
        }
        if keys.is_empty() {
            return Ok(Reduced {
                damaged,
                more,
                ..Reduced::default()
            });
        }
        let done = update_from(backend, policy, None, |state| {
            let input = merged.clone().into_input(config, state);
            apply_input(config, recorded, state, input, Some(now_ms), dry_run)
        })
        .await?;
        // Not deleted: their ids are in the state now, the next reducer skips and deletes them.
        let undeleted = self.store.delete(&self.bucket, &keys).await.err();
        Ok(Reduced {
            done: Some(done),
            merged: keys.len(),
            damaged,
            more,
            undeleted,
        })
    }
}
