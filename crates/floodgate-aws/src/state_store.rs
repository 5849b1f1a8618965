//! The state object: read with its ETag, change, write back only if nobody else did.
//!
//! ```text
//! GetObject ──(404: first run, empty state)──▶ change(state) ──▶ PutObject If-None-Match: *
//!     ▲                                                               │  or If-Match: <etag>
//!     └──────────────── 412 / 409: re-read, change again ◀────────────┘  (bounded, jittered)
//! ```
//!
//! The change is a closure re-applied to the fresh state after a conflict. For a run it absorbs
//! the already-parsed per-object tallies ([`crate::read::Pending`]); the engine's merge is
//! commutative, so re-applying after another writer's merge loses no counts, and objects the
//! other writer processed meanwhile are skipped on the re-check.

use crate::objects::{ObjectStore, PutCondition, StoreError};
use crate::read::Pending;
use crate::retry::RetryPolicy;
use floodgate_core::config::{Config, ConfigSource};
use floodgate_core::decision::Decision;
use floodgate_core::engine;
use floodgate_core::state::State;
use std::future::Future;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateStoreError {
    /// Reading or writing failed.
    #[error("state {location}: {error}")]
    Store {
        /// Where.
        location: String,
        /// What.
        error: StoreError,
    },
    /// The bytes are not a state this build can read.
    #[error("state {location}: {error}")]
    Decode {
        /// Where.
        location: String,
        /// What.
        error: floodgate_core::state::StateError,
    },
    /// Still conflicting after every retry.
    #[error("state {location}: still conflicting after {attempts} attempts (another writer keeps winning)")]
    Contended {
        /// Where.
        location: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The change itself refused (e.g. a resolution mismatch).
    #[error("{0}")]
    Change(String),
}

/// The state's version as last read: its ETag, or `None` when it did not exist.
pub type Version = Option<String>;

/// Where the state lives: S3 ([`S3State`]) for the Lambda and `--state s3://…`; the CLI
/// implements it for its local state file.
pub trait StateBackend: Send + Sync {
    /// Human-readable location for messages.
    fn location(&self) -> String;
    /// Read the state (a missing object is the empty state, version `None`).
    fn load(&self) -> impl Future<Output = Result<(State, Version), StateStoreError>> + Send;
    /// Write `bytes` if the state is still at `version`; `Conflict` otherwise.
    fn store(
        &self,
        bytes: Vec<u8>,
        version: &Version,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send;
}

/// The state object in a bucket, written with conditional puts.
#[derive(Clone)]
pub struct S3State<S> {
    /// The store.
    pub store: S,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
}

impl<S: ObjectStore> StateBackend for S3State<S> {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    async fn load(&self) -> Result<(State, Version), StateStoreError> {
        match self.store.get(&self.bucket, &self.key).await {
            Ok(o) => {
                let state = State::load(&o.bytes).map_err(|error| StateStoreError::Decode {
                    location: self.location(),
                    error,
                })?;
                // An object without an ETag can only be overwritten unconditionally; S3 always
                // sends one, so treat its absence as "must not exist" (the write will conflict
                // and re-read rather than clobber).
                Ok((state, Some(o.etag.unwrap_or_default())))
            }
            Err(StoreError::NotFound(_)) => Ok((State::default(), None)),
            Err(error) => Err(StateStoreError::Store {
                location: self.location(),
                error,
            }),
        }
    }

    async fn store(&self, bytes: Vec<u8>, version: &Version) -> Result<Version, StoreError> {
        let condition = match version {
            None => PutCondition::IfAbsent,
            Some(etag) => PutCondition::IfMatch(etag.clone()),
        };
        let etag = self
            .store
            .put(
                &self.bucket,
                &self.key,
                bytes,
                "application/octet-stream",
                condition,
            )
            .await?;
        Ok(Some(etag.unwrap_or_default()))
    }
}

/// The outcome of [`update`].
#[derive(Debug)]
pub struct Updated<T> {
    /// What the change returned on the attempt that was written.
    pub value: T,
    /// The state as written.
    pub state: State,
    /// Its version.
    pub version: Version,
    /// Conflicts met (each one cost a re-read).
    pub conflicts: u32,
    /// Whether anything was written (`false` when the change left the state equal).
    pub written: bool,
    /// Size of the state's encoding as written (0 when nothing was written): the `StateBytes`
    /// metric, known here without encoding the state again.
    pub state_bytes: u64,
}

/// What a change did: its value, and whether it changed the state (an unchanged state is
/// not written: no PUT, no new object version, nothing for other writers to conflict with).
#[derive(Debug)]
pub struct Changed<T> {
    /// The change's result.
    pub value: T,
    /// Whether the state was changed.
    pub changed: bool,
}

impl<T> Changed<T> {
    /// The state was changed.
    pub fn yes(value: T) -> Self {
        Changed {
            value,
            changed: true,
        }
    }

    /// The state was left as it was.
    pub fn no(value: T) -> Self {
        Changed {
            value,
            changed: false,
        }
    }
}

/// Read, change, conditionally write; on conflict re-read and re-apply `change`, up to
/// `policy.attempts` times with jittered backoff. A change that says it left the state as it
/// was is not written.
pub async fn update<B, T, F>(
    backend: &B,
    policy: RetryPolicy,
    change: F,
) -> Result<Updated<T>, StateStoreError>
where
    B: StateBackend,
    F: FnMut(&mut State) -> Result<Changed<T>, String>,
{
    update_from(backend, policy, None, change).await
}

/// [`update`], starting from a state the caller has already loaded (with its version): an
/// invocation decodes the state once, not once to read its objects and again to commit them.
/// Each attempt holds one decoded state and, while writing, one encoding of it.
pub async fn update_from<B, T, F>(
    backend: &B,
    policy: RetryPolicy,
    mut first: Option<(State, Version)>,
    mut change: F,
) -> Result<Updated<T>, StateStoreError>
where
    B: StateBackend,
    F: FnMut(&mut State) -> Result<Changed<T>, String>,
{
    let attempts = policy.attempts.max(1);
    let mut conflicts = 0;
    for attempt in 1..=attempts {
        let (mut state, version) = match first.take() {
            Some(loaded) => loaded,
            None => backend.load().await?,
        };
        let Changed { value, changed } = change(&mut state).map_err(StateStoreError::Change)?;
        if !changed && version.is_some() {
            return Ok(Updated {
                value,
                state,
                version,
                conflicts,
                written: false,
                state_bytes: 0,
            });
        }
        let bytes = state.save();
        let size = bytes.len() as u64;
        match backend.store(bytes, &version).await {
            Ok(version) => {
                return Ok(Updated {
                    value,
                    state,
                    version,
                    conflicts,
                    written: true,
                    state_bytes: size,
                })
            }
            Err(StoreError::Conflict(_)) => {
                conflicts += 1;
                if attempt < attempts {
                    policy.backoff(attempt).await;
                }
            }
            Err(error) => {
                return Err(StateStoreError::Store {
                    location: backend.location(),
                    error,
                })
            }
        }
    }
    Err(StateStoreError::Contended {
        location: backend.location(),
        attempts,
    })
}

/// Commit a batch: absorb the pending objects into the freshest state (skipping any another
/// writer processed meanwhile), decide at `now_ms`, settle, write. Retries conflicts.
pub async fn commit_run<B: StateBackend>(
    backend: &B,
    policy: RetryPolicy,
    config: &Config,
    pending: &Pending,
    now_ms: Option<i64>,
    dry_run: bool,
) -> Result<Updated<Decision>, StateStoreError> {
    commit_run_from(
        backend, policy, None, config, None, pending, now_ms, dry_run,
    )
    .await
}

/// [`commit_run`] starting from the state the caller loaded to read its objects (moved in, so
/// the invocation holds one decoded state, not two), recording `recorded` as the configuration
/// the state was decided with (as the CLI records its `--config`).
#[allow(clippy::too_many_arguments)]
pub async fn commit_run_from<B: StateBackend>(
    backend: &B,
    policy: RetryPolicy,
    first: Option<(State, Version)>,
    config: &Config,
    recorded: Option<&ConfigSource>,
    pending: &Pending,
    now_ms: Option<i64>,
    dry_run: bool,
) -> Result<Updated<Decision>, StateStoreError> {
    update_from(backend, policy, first, |state| {
        let input = pending.to_input(config, state);
        apply_input(config, recorded, state, input, now_ms, dry_run)
    })
    .await
}

/// The change a commit makes, from a direct read or from partials ([`crate::partials`]): run
/// the engine over `input` and record the configuration; when every object of `input` was
/// processed before (by another writer meanwhile), decide again and change nothing.
pub(crate) fn apply_input(
    config: &Config,
    recorded: Option<&ConfigSource>,
    state: &mut State,
    input: floodgate_core::engine::RunInput,
    now_ms: Option<i64>,
    dry_run: bool,
) -> Result<Changed<Decision>, String> {
    if input.processed_ids.is_empty() {
        let again = engine::decide_again(config, state, state.last_run.now_ms);
        return Ok(Changed::no(again));
    }
    let decision = engine::run(config, state, input, now_ms, dry_run).map_err(|e| e.to_string())?;
    record(state, recorded);
    Ok(Changed::yes(decision))
}

/// Record the configuration a state was decided with, when known.
pub(crate) fn record(state: &mut State, recorded: Option<&ConfigSource>) {
    if let Some(r) = recorded {
        state.config = Some(r.clone());
    }
}

/// The scheduled run: expire bans at `now_ms` against the freshest state and write it,
/// recording `recorded` as the configuration it was decided with.
pub async fn commit_expiry<B: StateBackend>(
    backend: &B,
    policy: RetryPolicy,
    config: &Config,
    recorded: Option<&ConfigSource>,
    now_ms: i64,
    dry_run: bool,
) -> Result<Updated<Decision>, StateStoreError> {
    update(backend, policy, |state| {
        let decision = engine::expire(config, state, now_ms, dry_run).map_err(|e| e.to_string())?;
        record(state, recorded);
        Ok(Changed::yes(decision))
    })
    .await
}
