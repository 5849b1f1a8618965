//! The CLI's state: one local file (`--state FILE`), single writer, replaced atomically.
//!
//! Every command that reads or writes a state file goes through [`StateFile`]: `analyze`,
//! `report` and `explain` directly, `sync` through its [`StateBackend`] implementation (the
//! trait the Lambda's S3 state implements too, so sync's ownership writes are the same code).

use crate::output::write_atomic;
use anyhow::Context;
use floodgate_aws::objects::StoreError;
use floodgate_aws::state_store::{StateStoreError, Version};
use floodgate_aws::StateBackend;
use floodgate_core::state::State;
use std::path::PathBuf;

/// Load the state `--state` names, a file or `s3://bucket/key`: the state (`None` when there
/// is none yet) and the S3 version read (to write back conditionally).
pub fn load_any(
    path: &std::path::Path,
) -> Result<(Option<State>, floodgate_aws::state_store::Version), crate::Failure> {
    match path.to_str().filter(|p| p.starts_with("s3://")) {
        Some(url) => crate::aws::load_s3_state(url),
        None => Ok((StateFile::new(path).load()?, None)),
    }
}

/// The state `--state` names, which must exist (`report`, `explain`).
pub fn load_existing_any(path: &std::path::Path) -> Result<State, crate::Failure> {
    load_any(path)?
        .0
        .ok_or_else(|| crate::Failure::usage(anyhow::anyhow!("{}: no such state", path.display())))
}

/// Save the state `--state` names: atomically to a file, conditionally to S3.
pub fn save_any(
    path: &std::path::Path,
    state: &State,
    version: &floodgate_aws::state_store::Version,
) -> Result<(), crate::Failure> {
    match path.to_str().filter(|p| p.starts_with("s3://")) {
        Some(url) => crate::aws::save_s3_state(url, state, version),
        None => Ok(StateFile::new(path).save(state)?),
    }
}

/// A state file.
#[derive(Clone, Debug)]
pub struct StateFile {
    /// Where it lives.
    pub path: PathBuf,
}

impl StateFile {
    /// A state file at `path` (it need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> StateFile {
        StateFile { path: path.into() }
    }

    /// The state, or `None` when the file does not exist.
    pub fn load(&self) -> anyhow::Result<Option<State>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                Ok(Some(State::load(&bytes).with_context(|| {
                    format!("loading state {}", self.path.display())
                })?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => {
                Err(anyhow::Error::from(e)
                    .context(format!("reading state {}", self.path.display())))
            }
        }
    }

    /// The state; a missing file is an error naming it.
    pub fn load_existing(&self) -> anyhow::Result<State> {
        self.load()?
            .ok_or_else(|| anyhow::anyhow!("{}: no such state file", self.path.display()))
    }

    /// Hold the state for one run: an exclusive lock on `PATH.lock`, released when the returned
    /// file is dropped (or the process ends). A second run on the same state while one is
    /// running fails at once, naming the lock, instead of silently losing one run's work when
    /// both save.
    pub fn lock(&self) -> anyhow::Result<std::fs::File> {
        let mut name = self.path.clone().into_os_string();
        name.push(".lock");
        let lock_path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(anyhow::anyhow!(
                "{} is in use by another floodgate run (lock {}); run again when it has finished",
                self.path.display(),
                lock_path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::from(e).context(format!("locking {}", lock_path.display())))
            }
        }
    }

    /// Write the state (atomically: readers never see half a file).
    pub fn save(&self, state: &State) -> anyhow::Result<()> {
        write_atomic(&self.path, &state.save())
    }
}

impl StateBackend for StateFile {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn load(&self) -> Result<(State, Version), StateStoreError> {
        match StateFile::load(self) {
            Ok(Some(s)) => Ok((s, Some(String::new()))),
            Ok(None) => Ok((State::default(), None)),
            Err(e) => Err(StateStoreError::Store {
                location: self.location(),
                error: StoreError::Other(format!("{e:#}")),
            }),
        }
    }

    async fn store(&self, bytes: Vec<u8>, _version: &Version) -> Result<Version, StoreError> {
        write_atomic(&self.path, &bytes).map_err(|e| StoreError::Other(format!("{e:#}")))?;
        Ok(Some(String::new()))
    }
}
