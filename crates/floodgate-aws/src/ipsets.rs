//! Keeping two WAF IP sets (IPv4, IPv6) equal to the decision without touching anyone else's
//! entries.
//!
//! # Ownership
//!
//! `state.ip_sets[set id]` lists the entries floodgate itself added to that set. Per set:
//!
//! ```text
//! current  C = GetIPSet.addresses            owned O = state.ip_sets[id]
//! desired  D = the decision's blocklist (this IP version)
//! foreign  F = C − O                         (never removed, never claimed)
//! new set  N = F ∪ D                         (capped at 10 000 entries, F first)
//! added    A = D − C                         (only these become owned)
//! owned'   O' = (O ∪ A) ∩ N
//! ```
//!
//! An entry someone else added that floodgate also wants stays foreign: when the ban ends it is
//! left in place, because floodgate did not put it there.
//!
//! # Crash safety
//!
//! Before an UpdateIPSet that adds entries, `O ∪ A` is saved to the state (a conditional write,
//! see [`crate::state_store::update`]). A crash after the IP set write but before the final
//! save therefore cannot turn floodgate's entries into "foreign" ones that nobody removes; a
//! crash before the IP set write leaves owned entries that are not in the set, which the next
//! sync simply drops from `O`.
//!
//! # Retries
//!
//! `WAFOptimisticLockException` (someone wrote the set since our GetIPSet): re-read, re-plan,
//! retry. `WAFLimitsExceededException` / throttling: jittered exponential backoff (the account
//! allows about one write per second). Both bounded by the policy's attempts. An unchanged set
//! costs one GetIPSet and no write; `dry_run` never calls UpdateIPSet.

use crate::retry::RetryPolicy;
use crate::state_store::{update, StateBackend};
use floodgate_core::state::State;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeSet;
use std::future::Future;
use std::str::FromStr;

/// WAF's limit of addresses (CIDRs) per IP set.
pub const WAF_MAX_ADDRESSES: usize = 10_000;

/// WAF scope of the IP sets. CLOUDFRONT sets live in us-east-1 whatever the caller's region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// ALB, API Gateway, AppSync, Cognito, App Runner, Verified Access.
    Regional,
    /// CloudFront distributions (API calls go to us-east-1).
    Cloudfront,
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "REGIONAL" => Ok(Scope::Regional),
            "CLOUDFRONT" => Ok(Scope::Cloudfront),
            other => Err(format!(
                "scope must be REGIONAL or CLOUDFRONT, not {other:?}"
            )),
        }
    }
}

/// Which addresses a set holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum IpVersion {
    /// IPv4 CIDRs.
    V4,
    /// IPv6 CIDRs.
    V6,
}

/// An IP set by name and id (WAF needs both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpSetRef {
    /// Name.
    pub name: String,
    /// Id.
    pub id: String,
}

impl IpSetRef {
    /// Parse `NAME:ID` (the infra outputs and `FLOODGATE_IPV4_SET` use this form).
    pub fn parse(text: &str) -> Result<IpSetRef, String> {
        match text.trim().split_once(':') {
            Some((name, id)) if !name.is_empty() && !id.is_empty() && !id.contains(':') => {
                Ok(IpSetRef {
                    name: name.to_string(),
                    id: id.to_string(),
                })
            }
            _ => Err(format!("expected NAME:ID of a WAF IP set, got {text:?}")),
        }
    }
}

/// A set as read: its entries and the token the next write must present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSetSnapshot {
    /// Entries (CIDRs) as WAF returns them.
    pub addresses: Vec<String>,
    /// LockToken.
    pub lock_token: String,
}

/// WAF failures, by what floodgate does about them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WafError {
    /// `WAFOptimisticLockException`: re-read and retry.
    #[error("optimistic lock: {0}")]
    OptimisticLock(String),
    /// `WAFLimitsExceededException` / throttling: back off and retry.
    #[error("throttled: {0}")]
    Throttled(String),
    /// Anything else: reported, counted as a sync failure.
    #[error("{0}")]
    Other(String),
}

/// The two WAF calls floodgate makes ([`crate::waf::WafIpSets`] in production).
pub trait IpSetApi: Send + Sync {
    /// GetIPSet.
    fn get(&self, set: &IpSetRef) -> impl Future<Output = Result<IpSetSnapshot, WafError>> + Send;
    /// UpdateIPSet (replaces every entry).
    fn update(
        &self,
        set: &IpSetRef,
        addresses: Vec<String>,
        lock_token: &str,
    ) -> impl Future<Output = Result<(), WafError>> + Send;
}

/// A set to keep in sync and the IP version it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncTarget {
    /// The set.
    pub set: IpSetRef,
    /// Its version.
    pub version: IpVersion,
}

/// How to sync.
#[derive(Clone, Copy, Debug)]
pub struct SyncOptions {
    /// Read and plan only: no UpdateIPSet, no ownership change.
    pub dry_run: bool,
    /// Entries per set (WAF: 10 000).
    pub capacity: usize,
    /// Retries of WAF calls.
    pub retry: RetryPolicy,
    /// Retries of the ownership writes to the state.
    pub state_retry: RetryPolicy,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            dry_run: false,
            capacity: WAF_MAX_ADDRESSES,
            retry: RetryPolicy::WAF,
            state_retry: RetryPolicy::STATE,
        }
    }
}

/// What one sync would do to a set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The full new entry list to send.
    pub addresses: Vec<String>,
    /// Entries floodgate adds (they become owned).
    pub added: Vec<String>,
    /// Owned entries it removes.
    pub removed: Vec<String>,
    /// Desired entries left out for lack of room.
    pub not_fitted: Vec<String>,
    /// Entries kept because someone else added them.
    pub foreign: usize,
    /// Whether the set changes.
    pub changed: bool,
}

/// Canonical text of an entry (WAF may print IPv6 differently); unparseable entries as is.
pub fn normalize(entry: &str) -> String {
    let t = entry.trim();
    t.parse::<IpNet>()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// Compute the new set (see the module docs). Pure, so the rules are tested directly.
pub fn plan(
    current: &[String],
    owned: &BTreeSet<String>,
    desired: &[String],
    capacity: usize,
) -> Plan {
    let current_norm: BTreeSet<String> = current.iter().map(|c| normalize(c)).collect();
    let mut addresses: Vec<String> = Vec::new();
    let mut present: BTreeSet<String> = BTreeSet::new();
    let mut foreign = 0;
    for c in current {
        let n = normalize(c);
        if !owned.contains(&n) && present.insert(n) {
            addresses.push(c.clone());
            foreign += 1;
        }
    }
    let want: Vec<String> = desired.iter().map(|d| normalize(d)).collect();
    let want_set: BTreeSet<&String> = want.iter().collect();
    // Entries already in the set first (no churn at the limit), then new ones in order.
    let (kept, new): (Vec<&String>, Vec<&String>) =
        want.iter().partition(|d| current_norm.contains(*d));
    let (mut added, mut not_fitted) = (Vec::new(), Vec::new());
    for (d, is_new) in kept
        .into_iter()
        .map(|d| (d, false))
        .chain(new.into_iter().map(|d| (d, true)))
    {
        if present.contains(d) {
            continue;
        }
        if addresses.len() >= capacity {
            not_fitted.push(d.clone());
            continue;
        }
        present.insert(d.clone());
        addresses.push(d.clone());
        if is_new {
            added.push(d.clone());
        }
    }
    let removed: Vec<String> = current
        .iter()
        .map(|c| normalize(c))
        .filter(|n| owned.contains(n) && !want_set.contains(n))
        .collect();
    let changed = present != current_norm;
    added.sort();
    Plan {
        addresses,
        added,
        removed,
        not_fitted,
        foreign,
        changed,
    }
}

/// What happened to one set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SetReport {
    /// Set name.
    pub name: String,
    /// Set id.
    pub id: String,
    /// `ipv4` or `ipv6`.
    pub version: String,
    /// Whether UpdateIPSet succeeded.
    pub wrote: bool,
    /// Entries added (or that would be, in a dry run).
    pub added: Vec<String>,
    /// Entries removed (or that would be).
    pub removed: Vec<String>,
    /// Desired entries that did not fit in the set.
    pub not_fitted: Vec<String>,
    /// Entries of others left in place.
    pub foreign_kept: usize,
    /// Optimistic-lock conflicts met.
    pub conflicts: u32,
    /// Throttled calls met.
    pub throttled: u32,
    /// Why the set could not be synced.
    pub error: Option<String>,
}

/// What a sync did, per set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Nothing was written on purpose.
    pub dry_run: bool,
    /// One per target.
    pub sets: Vec<SetReport>,
}

impl SyncReport {
    /// UpdateIPSet calls that succeeded.
    pub fn writes(&self) -> u64 {
        self.sets.iter().filter(|s| s.wrote).count() as u64
    }
    /// Optimistic-lock conflicts.
    pub fn conflicts(&self) -> u64 {
        self.sets.iter().map(|s| s.conflicts as u64).sum()
    }
    /// Sets that could not be synced.
    pub fn failures(&self) -> u64 {
        self.sets.iter().filter(|s| s.error.is_some()).count() as u64
    }
}

/// Bring every target set to the blocklist of `state` (see the module docs), recording
/// ownership in `backend`. Never fails as a whole: per-set errors are in the report.
pub async fn sync_ip_sets<W: IpSetApi, B: StateBackend>(
    waf: &W,
    backend: &B,
    state: &State,
    targets: &[SyncTarget],
    opts: &SyncOptions,
) -> SyncReport {
    let mut report = SyncReport {
        dry_run: opts.dry_run,
        sets: Vec::new(),
    };
    for t in targets {
        let desired = match t.version {
            IpVersion::V4 => &state.blocklist.ipv4,
            IpVersion::V6 => &state.blocklist.ipv6,
        };
        let owned = state.ip_sets.get(&t.set.id).cloned().unwrap_or_default();
        report
            .sets
            .push(sync_one(waf, backend, t, desired, owned, opts).await);
    }
    report
}

async fn sync_one<W: IpSetApi, B: StateBackend>(
    waf: &W,
    backend: &B,
    target: &SyncTarget,
    desired: &[String],
    mut owned: BTreeSet<String>,
    opts: &SyncOptions,
) -> SetReport {
    let id = target.set.id.clone();
    let mut rep = SetReport {
        name: target.set.name.clone(),
        id: id.clone(),
        version: match target.version {
            IpVersion::V4 => "ipv4".into(),
            IpVersion::V6 => "ipv6".into(),
        },
        ..SetReport::default()
    };
    let attempts = opts.retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let retry_left = attempt < attempts;
        let snap = match waf.get(&target.set).await {
            Ok(s) => s,
            Err(WafError::Throttled(e)) if retry_left => {
                rep.throttled += 1;
                let _ = e;
                opts.retry.backoff(attempt).await;
                continue;
            }
            Err(e) => {
                rep.error = Some(format!("GetIPSet {}: {e}", target.set.name));
                return rep;
            }
        };
        let p = plan(&snap.addresses, &owned, desired, opts.capacity);
        rep.added = p.added.clone();
        rep.removed = p.removed.clone();
        rep.not_fitted = p.not_fitted.clone();
        rep.foreign_kept = p.foreign;
        if opts.dry_run {
            return rep;
        }
        let new_set: BTreeSet<String> = p.addresses.iter().map(|a| normalize(a)).collect();
        if !p.changed {
            // Forget owned entries that are no longer in the set (a crash before an earlier
            // write, or someone removed them by hand). Costs a state write only then.
            if owned.iter().any(|o| !new_set.contains(o)) {
                if let Err(e) = set_owned(backend, opts, &id, &new_set, &[]).await {
                    rep.error = Some(e);
                }
            }
            return rep;
        }
        if p.added.iter().any(|a| !owned.contains(a)) {
            // Record the intended ownership before the write (crash safety).
            let added = p.added.clone();
            let r = update(backend, opts.state_retry, |s| {
                s.ip_sets
                    .entry(id.clone())
                    .or_default()
                    .extend(added.iter().cloned());
                Ok(())
            })
            .await;
            if let Err(e) = r {
                rep.error = Some(format!("recording ownership before the write: {e}"));
                return rep;
            }
            owned.extend(p.added.iter().cloned());
        }
        match waf
            .update(&target.set, p.addresses.clone(), &snap.lock_token)
            .await
        {
            Ok(()) => {
                rep.wrote = true;
                if let Err(e) = set_owned(backend, opts, &id, &new_set, &p.added).await {
                    rep.error = Some(e);
                }
                return rep;
            }
            Err(WafError::OptimisticLock(_)) if retry_left => {
                rep.conflicts += 1;
                opts.retry.backoff(1).await;
            }
            Err(WafError::Throttled(_)) if retry_left => {
                rep.throttled += 1;
                opts.retry.backoff(attempt).await;
            }
            Err(e) => {
                rep.error = Some(format!(
                    "UpdateIPSet {} after {attempt} attempts: {e}",
                    target.set.name
                ));
                return rep;
            }
        }
    }
}

/// `O' = (O ∪ added) ∩ N`, written to the freshest state.
async fn set_owned<B: StateBackend>(
    backend: &B,
    opts: &SyncOptions,
    id: &str,
    new_set: &BTreeSet<String>,
    added: &[String],
) -> Result<(), String> {
    update(backend, opts.state_retry, |s| {
        let o = s.ip_sets.entry(id.to_string()).or_default();
        o.extend(added.iter().cloned());
        o.retain(|e| new_set.contains(e));
        if o.is_empty() {
            s.ip_sets.remove(id);
        }
        Ok(())
    })
    .await
    .map(|_| ())
    .map_err(|e| format!("recording ownership after the write: {e}"))
}
