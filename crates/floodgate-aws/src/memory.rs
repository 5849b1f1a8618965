//! In-memory fakes of the object store and the WAF IP set API, with fault injection.
//!
//! They implement the same traits as the AWS clients, so the pipeline, the state commit and
//! the IP set sync are tested without a network (and the CLI can use them in its own tests).
//! Semantics follow the real services where floodgate depends on them: conditional writes
//! fail with a conflict, a read naming another ETag or version than the object's fails with a
//! mismatch, IP set updates need the current lock token.

use crate::ipsets::{IpSetApi, IpSetRef, IpSetSnapshot, WafError};
use crate::objects::{ObjectBody, ObjectRef, ObjectStore, PutCondition, SmallObject, StoreError};
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

type Hook = Arc<dyn Fn(&MemoryStore, &str, &str) + Send + Sync>;

#[derive(Default)]
struct StoreInner {
    objects: BTreeMap<(String, String), (Vec<u8>, String)>,
    /// The version id of each object's current (and only kept) version.
    versions: BTreeMap<(String, String), String>,
    next_etag: u64,
    puts: Vec<(String, String)>,
    gets: u64,
    opens: u64,
    unreadable: BTreeMap<(String, String), String>,
}

/// A bucket store in memory. Clones share the same data.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<StoreInner>>,
    before_put: Arc<Mutex<Option<Hook>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Put an object directly (no conditions); returns its ETag.
    pub fn insert(&self, bucket: &str, key: &str, bytes: impl Into<Vec<u8>>) -> String {
        let mut g = lock(&self.inner);
        let (etag, _) = g.store((bucket.into(), key.into()), bytes.into());
        etag
    }

    /// The version id of an object's current version. The store keeps only that one, as a
    /// versioned bucket whose older versions were deleted: naming any other is `NoSuchVersion`.
    pub fn version(&self, bucket: &str, key: &str) -> Option<String> {
        lock(&self.inner)
            .versions
            .get(&(bucket.into(), key.into()))
            .cloned()
    }

    /// The bytes of an object, if present.
    pub fn bytes(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        lock(&self.inner)
            .objects
            .get(&(bucket.into(), key.into()))
            .map(|o| o.0.clone())
    }

    /// Keys under a prefix.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        lock(&self.inner)
            .objects
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect()
    }

    /// `(bucket, key)` of every successful put, in order.
    pub fn puts(&self) -> Vec<(String, String)> {
        lock(&self.inner).puts.clone()
    }

    /// How many objects were opened for streaming (log reads).
    pub fn opens(&self) -> u64 {
        lock(&self.inner).opens
    }

    /// Make reads of this object fail (permissions, say).
    pub fn make_unreadable(&self, bucket: &str, key: &str, why: &str) {
        lock(&self.inner)
            .unreadable
            .insert((bucket.into(), key.into()), why.into());
    }

    /// Run `hook` before every put (after the conditions are known, before they are checked):
    /// a test uses it to slip in a concurrent writer.
    pub fn before_put(&self, hook: impl Fn(&MemoryStore, &str, &str) + Send + Sync + 'static) {
        *lock(&self.before_put) = Some(Arc::new(hook));
    }

    /// Remove the hook.
    pub fn clear_hooks(&self) {
        *lock(&self.before_put) = None;
    }
}

impl StoreInner {
    /// Store a new version of `k`; its ETag and version id.
    fn store(&mut self, k: (String, String), bytes: Vec<u8>) -> (String, String) {
        self.next_etag += 1;
        let etag = format!("etag{}", self.next_etag);
        let version = format!("v{}", self.next_etag);
        self.objects.insert(k.clone(), (bytes, etag.clone()));
        self.versions.insert(k, version.clone());
        (etag, version)
    }
}

impl ObjectStore for MemoryStore {
    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, StoreError> {
        let (bytes, etag, version) = {
            let mut g = lock(&self.inner);
            g.opens += 1;
            let k = (object.bucket.clone(), object.key.clone());
            if let Some(why) = g.unreadable.get(&k) {
                return Err(StoreError::Other(why.clone()));
            }
            let (bytes, etag) = g
                .objects
                .get(&k)
                .cloned()
                .ok_or_else(|| StoreError::NotFound(object.url()))?;
            let version = g.versions.get(&k).cloned();
            // As S3 answers a GET with a versionId and an If-Match.
            let named = object.version_id.as_deref();
            if let Some(want) = named.filter(|v| !v.is_empty() && *v != "null") {
                if version.as_deref() != Some(want) {
                    let url = object.url();
                    return Err(StoreError::Mismatch(format!("{url}: NoSuchVersion {want}")));
                }
            }
            if let Some(want) = object.etag.as_deref().filter(|e| !e.is_empty()) {
                if want != etag {
                    let url = object.url();
                    return Err(StoreError::Mismatch(format!(
                        "{url}: 412 Precondition Failed (If-Match {want}, ETag {etag})"
                    )));
                }
            }
            (bytes, etag, version)
        };
        let size = bytes.len() as u64;
        let (tx, rx) = mpsc::channel(crate::objects::CHANNEL_CHUNKS);
        tokio::spawn(async move {
            for chunk in bytes.chunks(7 * 1024) {
                if tx.send(Ok(Bytes::copy_from_slice(chunk))).await.is_err() {
                    return;
                }
            }
        });
        Ok(ObjectBody {
            size: Some(size),
            etag: Some(etag),
            version_id: version,
            chunks: rx,
        })
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<SmallObject, StoreError> {
        let mut g = lock(&self.inner);
        g.gets += 1;
        let (bytes, etag) = g
            .objects
            .get(&(bucket.into(), key.into()))
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("s3://{bucket}/{key}")))?;
        Ok(SmallObject {
            bytes,
            etag: Some(etag),
        })
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
        condition: PutCondition,
    ) -> Result<Option<String>, StoreError> {
        let hook = lock(&self.before_put).clone();
        if let Some(hook) = hook {
            hook(self, bucket, key);
        }
        let mut g = lock(&self.inner);
        let k = (bucket.to_string(), key.to_string());
        let current = g.objects.get(&k).map(|o| o.1.clone());
        let ok = match (&condition, &current) {
            (PutCondition::None, _) => true,
            (PutCondition::IfAbsent, None) => true,
            (PutCondition::IfAbsent, Some(_)) => false,
            (PutCondition::IfMatch(want), Some(have)) => want == have,
            (PutCondition::IfMatch(_), None) => false,
        };
        if !ok {
            return Err(StoreError::Conflict(format!(
                "s3://{bucket}/{key}: precondition failed"
            )));
        }
        let (etag, _) = g.store(k.clone(), bytes);
        g.puts.push(k);
        Ok(Some(etag))
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectRef>, StoreError> {
        let g = lock(&self.inner);
        Ok(g.objects
            .iter()
            .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .map(|((b, k), (bytes, etag))| ObjectRef {
                bucket: b.clone(),
                key: k.clone(),
                version_id: None,
                etag: Some(etag.clone()),
                size: Some(bytes.len() as u64),
            })
            .collect())
    }

    async fn delete(&self, bucket: &str, keys: &[String]) -> Result<(), StoreError> {
        let mut g = lock(&self.inner);
        for k in keys {
            g.objects.remove(&(bucket.to_string(), k.clone()));
            g.versions.remove(&(bucket.to_string(), k.clone()));
        }
        Ok(())
    }
}

#[derive(Default)]
struct WafInner {
    sets: BTreeMap<String, (Vec<String>, u64)>,
    descriptions: BTreeMap<String, Option<String>>,
    /// Every successful UpdateIPSet: set id, entries sent, when (tokio clock).
    writes: Vec<(String, usize, tokio::time::Instant)>,
    gets: u64,
    updates: u64,
    /// Errors the next update calls return, in order.
    fail_updates: VecDeque<WafError>,
    /// Before the next update: someone else changes the set (its lock token moves on).
    race_next_update: VecDeque<Vec<String>>,
}

/// WAF IP sets in memory, keyed by id, with lock tokens enforced like WAF does.
#[derive(Clone, Default)]
pub struct MemoryIpSets {
    inner: Arc<Mutex<WafInner>>,
}

impl MemoryIpSets {
    /// No sets.
    pub fn new() -> MemoryIpSets {
        MemoryIpSets::default()
    }

    /// Create (or replace) a set with these entries.
    pub fn create(&self, id: &str, addresses: &[&str]) {
        lock(&self.inner).sets.insert(
            id.into(),
            (addresses.iter().map(|s| s.to_string()).collect(), 1),
        );
    }

    /// Give a set a description (GetIPSet returns it; UpdateIPSet replaces it with what it sends).
    pub fn describe(&self, id: &str, description: &str) {
        lock(&self.inner)
            .descriptions
            .insert(id.into(), Some(description.into()));
    }

    /// The set's description now.
    pub fn description(&self, id: &str) -> Option<String> {
        lock(&self.inner).descriptions.get(id).cloned().flatten()
    }

    /// Every successful UpdateIPSet so far: `(set id, entries sent, time)`.
    pub fn writes(&self) -> Vec<(String, usize, tokio::time::Instant)> {
        lock(&self.inner).writes.clone()
    }

    /// Current entries, sorted.
    pub fn addresses(&self, id: &str) -> Vec<String> {
        let mut v = lock(&self.inner)
            .sets
            .get(id)
            .map(|s| s.0.clone())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// `(GetIPSet calls, successful UpdateIPSet calls)`.
    pub fn calls(&self) -> (u64, u64) {
        let g = lock(&self.inner);
        (g.gets, g.updates)
    }

    /// The next update calls fail with these errors, in order.
    pub fn fail_next_updates(&self, errors: Vec<WafError>) {
        lock(&self.inner).fail_updates.extend(errors);
    }

    /// Before the next update, another writer adds `extra` to the set (moving its lock token),
    /// so that update fails with an optimistic-lock error.
    pub fn race_next_update(&self, extra: Vec<String>) {
        lock(&self.inner).race_next_update.push_back(extra);
    }
}

impl IpSetApi for MemoryIpSets {
    async fn get(&self, set: &IpSetRef) -> Result<IpSetSnapshot, WafError> {
        let mut g = lock(&self.inner);
        g.gets += 1;
        let (addresses, token) =
            g.sets.get(&set.id).cloned().ok_or_else(|| {
                WafError::Other(format!("WAFNonexistentItemException: {}", set.id))
            })?;
        Ok(IpSetSnapshot {
            addresses,
            description: g.descriptions.get(&set.id).cloned().flatten(),
            lock_token: format!("token{token}"),
        })
    }

    async fn update(
        &self,
        set: &IpSetRef,
        addresses: Vec<String>,
        description: Option<&str>,
        lock_token: &str,
    ) -> Result<(), WafError> {
        let mut g = lock(&self.inner);
        if let Some(e) = g.fail_updates.pop_front() {
            return Err(e);
        }
        if let Some(extra) = g.race_next_update.pop_front() {
            if let Some(s) = g.sets.get_mut(&set.id) {
                s.0.extend(extra);
                s.1 += 1;
            }
        }
        let entry = g
            .sets
            .get_mut(&set.id)
            .ok_or_else(|| WafError::Other(format!("WAFNonexistentItemException: {}", set.id)))?;
        if format!("token{}", entry.1) != lock_token {
            return Err(WafError::OptimisticLock("lock token is stale".into()));
        }
        if addresses.len() > crate::ipsets::WAF_MAX_ADDRESSES {
            return Err(WafError::Other(
                "WAFLimitsExceededException: too many".into(),
            ));
        }
        let n = addresses.len();
        *entry = (addresses, entry.1 + 1);
        g.updates += 1;
        // Like WAF: the description becomes what the update sent (absent: cleared).
        g.descriptions
            .insert(set.id.clone(), description.map(str::to_string));
        g.writes
            .push((set.id.clone(), n, tokio::time::Instant::now()));
        Ok(())
    }
}

#[derive(Default)]
struct TopicInner {
    messages: Vec<(String, String)>,
    fail_next: u32,
}

/// An SNS topic in memory: keeps every published `(subject, message)`; can be told to fail.
#[derive(Clone, Default)]
pub struct MemoryTopic {
    inner: Arc<Mutex<TopicInner>>,
}

impl MemoryTopic {
    /// An empty topic.
    pub fn new() -> MemoryTopic {
        MemoryTopic::default()
    }

    /// Everything published, in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        lock(&self.inner).messages.clone()
    }

    /// The next `n` publishes fail.
    pub fn fail_next(&self, n: u32) {
        lock(&self.inner).fail_next = n;
    }
}

impl crate::sns::Publisher for MemoryTopic {
    fn publish<'a>(
        &'a self,
        subject: &'a str,
        message: &'a str,
    ) -> crate::sinks::BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut g = lock(&self.inner);
            if g.fail_next > 0 {
                g.fail_next -= 1;
                return Err("AuthorizationError: not allowed to publish (test)".into());
            }
            g.messages.push((subject.to_string(), message.to_string()));
            Ok(())
        })
    }
}
