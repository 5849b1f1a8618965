//! The object store behind a trait: S3 in production ([`crate::s3::S3Store`]), memory in tests
//! ([`crate::memory::MemoryStore`]).
//!
//! Reading hands out a bounded channel of chunks rather than a buffer, so a 1 GB log object
//! never sits in memory: the producer (the S3 body stream) waits while the consumer (the
//! decoder on a blocking thread, see [`crate::read`]) is busy.

use bytes::Bytes;
use std::future::Future;
use std::io;
use tokio::sync::mpsc;

/// Chunks in flight between the network and the decoder (× S3's ~64 KiB chunks).
pub const CHANNEL_CHUNKS: usize = 16;

/// An object in a bucket, as named by an event or a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Decoded key.
    pub key: String,
    /// Version id, when the bucket is versioned (`"null"` counts as none).
    pub version_id: Option<String>,
    /// ETag without quotes.
    pub etag: Option<String>,
    /// Size in bytes, when known before reading.
    pub size: Option<u64>,
}

impl ObjectRef {
    /// A reference by bucket and key only.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> ObjectRef {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
            ..ObjectRef::default()
        }
    }

    /// `s3://bucket/key`, the path shown in reports.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The processed-object id: `s3://bucket/key#<ETag or versionId>`. The same bytes under the
    /// same key get the same id, so a redelivered event (or a DLQ redrive) is counted once;
    /// an overwritten object gets a new id and is counted again.
    pub fn id(&self) -> String {
        // ETag first: both S3 events and listings carry it, so the Lambda and
        // `floodgate analyze s3://…` recognise each other's processed objects.
        let version = self
            .etag
            .as_deref()
            .filter(|e| !e.is_empty())
            .or(self
                .version_id
                .as_deref()
                .filter(|v| !v.is_empty() && *v != "null"))
            .unwrap_or("-");
        format!("{}#{}", self.url(), version)
    }
}

/// Strip the quotes S3 puts around ETags in headers and listings (events have none).
pub fn clean_etag(etag: &str) -> String {
    etag.trim().trim_matches('"').to_string()
}

/// An object being read: metadata and a bounded stream of body chunks.
#[derive(Debug)]
pub struct ObjectBody {
    /// Content length.
    pub size: Option<u64>,
    /// ETag without quotes.
    pub etag: Option<String>,
    /// Version id.
    pub version_id: Option<String>,
    /// Body chunks; an `Err` is a transport failure (not damage in the data).
    pub chunks: mpsc::Receiver<io::Result<Bytes>>,
}

/// A whole small object (state, config) with its ETag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallObject {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// ETag without quotes (the token for a conditional write).
    pub etag: Option<String>,
}

/// Preconditions of a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PutCondition {
    /// Plain overwrite (reports).
    None,
    /// `If-None-Match: *`: only if the key does not exist (first state write).
    IfAbsent,
    /// `If-Match: <etag>`: only if the object is still the one read.
    IfMatch(String),
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// 404 / NoSuchKey.
    #[error("not found: {0}")]
    NotFound(String),
    /// 412 / 409: the precondition failed, another writer was first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The object is there but is not the one named: another ETag than the If-Match sent
    /// (412 on a GET), or no such version. A notification that names an identity the object
    /// does not have is forged or stale; reading the current object instead would count it
    /// again under an id that is not its own.
    #[error("not the object named: {0}")]
    Mismatch(String),
    /// Anything else (permissions, network, throttling after the SDK's own retries).
    #[error("{0}")]
    Other(String),
}

/// The few object-store calls floodgate makes. Implementations are cheap to clone (they are
/// shared by the concurrent readers of a batch).
pub trait ObjectStore: Clone + Send + Sync + 'static {
    /// Start reading an object. Chunks arrive on the returned channel. When `object` names a
    /// version, that version is read; when it names an ETag, the read is conditional on it
    /// (`If-Match`): either failing is [`StoreError::Mismatch`], never the current object.
    fn open(
        &self,
        object: &ObjectRef,
    ) -> impl Future<Output = Result<ObjectBody, StoreError>> + Send;

    /// Read a small object whole (`NotFound` when absent).
    fn get(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<SmallObject, StoreError>> + Send;

    /// Write an object under `condition`; returns the new ETag.
    fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: PutCondition,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Every object under `prefix`, in key order.
    fn list(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ObjectRef>, StoreError>> + Send;

    /// Delete `keys` (absent ones are not an error): the reducer removes the partials it
    /// merged ([`crate::partials`]).
    fn delete(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Split `s3://bucket/key-or-prefix` into its parts.
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    Some((bucket.to_string(), key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_prefer_etag_then_version() {
        let mut o = ObjectRef::new("b", "a/k.gz");
        assert_eq!(o.id(), "s3://b/a/k.gz#-");
        o.version_id = Some("null".into());
        assert_eq!(o.id(), "s3://b/a/k.gz#-");
        o.version_id = Some("v1".into());
        assert_eq!(o.id(), "s3://b/a/k.gz#v1");
        // events and listings both carry the ETag: it wins, so they agree
        o.etag = Some("abc".into());
        assert_eq!(o.id(), "s3://b/a/k.gz#abc");
        assert_eq!(clean_etag("\"abc\""), "abc");
        assert_eq!(parse_s3_url("s3://b/p/q"), Some(("b".into(), "p/q".into())));
        assert_eq!(parse_s3_url("s3://b"), Some(("b".into(), "".into())));
        assert_eq!(parse_s3_url("s3:///x"), None);
        assert_eq!(parse_s3_url("/tmp"), None);
    }
}
