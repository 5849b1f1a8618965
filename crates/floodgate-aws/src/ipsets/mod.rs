//! Keeping the WAF IP sets of each IP version equal to the decision, over as many sets as the
//! capacity needs, without touching anyone else's entries.
//!
//! # Ownership
//!
//! `state.ip_sets[set id]` lists the entries floodgate itself added to that set. Per set:
//!
//! ```text
//! current  C = GetIPSet.addresses            owned O = state.ip_sets[id]
//! foreign  F = C − O                         (never removed, never claimed; count against room)
//! ```
//!
//! An entry someone else added that floodgate also wants stays foreign: when the ban ends it is
//! left in place, because floodgate did not put it there.
//!
//! # Placement over several sets ([`place`])
//!
//! `D` is the decision's blocklist of one IP version, the sets are taken in the configured
//! order. Every wanted entry already in some set stays where it is (the first set holding it,
//! if several do), so an unchanged ban costs no write while it lasts. Owned entries no longer
//! wanted are removed. New entries fill the first set with room, then the next: a new ban
//! touches one set. Each set holds at most `capacity` entries (WAF: 10,000), foreign ones
//! included; what does not fit anywhere is reported (`not_fitted`), never silently lost. Only
//! sets whose content changes are written, at most one write per `min_write_interval` (the
//! account allows about one WAF write per second).
//!
//! # Crash safety
//!
//! Before an UpdateIPSet that adds entries, `O ∪ added` is saved to the state (a conditional
//! write, see [`crate::state_store::update`]). A crash after the IP set write but before the final
//! save therefore cannot turn floodgate's entries into "foreign" ones that nobody removes; a
//! crash before the IP set write leaves owned entries that are not in the set, which the next
//! sync simply drops from `O`.
//!
//! # Retries
//!
//! `WAFOptimisticLockException` (someone wrote the set since our GetIPSet): re-read that set,
//! re-plan it with the entries placed there, retry. `WAFLimitsExceededException` / throttling:
//! jittered exponential backoff. Both bounded by the policy's attempts; the SDK itself does not
//! retry these calls (see [`crate::waf`]), so one attempt here is one request. An unchanged set
//! costs one GetIPSet and no write; `dry_run` never calls UpdateIPSet. UpdateIPSet sends the
//! set's description back, so a sync never clears it.

mod sync;

pub use sync::{sync_ip_sets, SetReport, SyncReport};

use crate::retry::RetryPolicy;
use floodgate_core::config::BanConfig;
use ipnet::IpNet;
use serde::Serialize;
use std::collections::BTreeSet;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

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
    /// Parse a comma-separated list of `NAME:ID` (`FLOODGATE_IPV4_SET`, the infra outputs).
    pub fn parse_list(text: &str) -> Result<Vec<IpSetRef>, String> {
        let sets: Vec<IpSetRef> = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(IpSetRef::parse)
            .collect::<Result<_, _>>()?;
        if sets.is_empty() {
            return Err("expected a comma-separated list of NAME:ID".into());
        }
        Ok(sets)
    }

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

/// A set as read: its entries, its description and the token the next write must present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSetSnapshot {
    /// Entries (CIDRs) as WAF returns them.
    pub addresses: Vec<String>,
    /// The set's description, sent back with every update (UpdateIPSet would clear it).
    pub description: Option<String>,
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
    /// UpdateIPSet: replaces every entry; `description` is sent as it was read.
    fn update(
        &self,
        set: &IpSetRef,
        addresses: Vec<String>,
        description: Option<&str>,
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
    /// Least time between two UpdateIPSet calls (WAF allows about one write per second).
    pub min_write_interval: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            dry_run: false,
            capacity: WAF_MAX_ADDRESSES,
            retry: RetryPolicy::WAF,
            state_retry: RetryPolicy::STATE,
            min_write_interval: Duration::from_secs(1),
        }
    }
}

/// Refuse to start with fewer sets than `ban.max_entries` needs: every problem, one line each
/// (`name` is how the caller's user spells the list: `FLOODGATE_IPV4_SET`, `--ipv4-set`).
pub fn check_capacity(
    ban: &BanConfig,
    targets: &[SyncTarget],
    names: [&str; 2],
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (version, name) in [(IpVersion::V4, names[0]), (IpVersion::V6, names[1])] {
        let have = targets.iter().filter(|t| t.version == version).count();
        let ipv4 = version == IpVersion::V4;
        // A capacity the configuration does not set follows the sets given: always enough.
        if let (Some(need), Some(max)) = (ban.ip_sets_needed(ipv4), ban.max_entries_for(ipv4)) {
            if have > 0 && have < need {
                let key = match (ipv4, ban.max_entries_ipv4, ban.max_entries_ipv6) {
                    (true, Some(_), _) => "ban.max_entries_ipv4",
                    (false, _, Some(_)) => "ban.max_entries_ipv6",
                    _ => "ban.max_entries",
                };
                problems.push(format!(
                    "{name}: {key} = {max} needs {need} IP sets of {WAF_MAX_ADDRESSES} entries, {have} given: give more sets, or leave {key} out (the capacity then follows the sets given)"
                ));
            }
        }
        let mut ids = BTreeSet::new();
        for t in targets.iter().filter(|t| t.version == version) {
            if !ids.insert(&t.set.id) {
                problems.push(format!("{name}: the set {} is listed twice", t.set.id));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// What one sync does to one set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The full new entry list to send.
    pub addresses: Vec<String>,
    /// Entries floodgate adds here (they become owned).
    pub added: Vec<String>,
    /// Owned entries it removes from here.
    pub removed: Vec<String>,
    /// Wanted entries that fit in no set (reported on the version's last set).
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

/// One set as read: its entries and which of them floodgate owns.
#[derive(Clone, Copy, Debug)]
pub struct SetView<'a> {
    /// GetIPSet.addresses.
    pub current: &'a [String],
    /// `state.ip_sets[id]` (normalised).
    pub owned: &'a BTreeSet<String>,
}

/// Place `desired` over the sets of one IP version (see the module docs). Pure, so the rules
/// are tested directly.
pub fn place(sets: &[SetView<'_>], desired: &[String], capacity: usize) -> Vec<Plan> {
    let want: Vec<String> = desired.iter().map(|d| normalize(d)).collect();
    let want_set: BTreeSet<&String> = want.iter().collect();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut plans: Vec<Plan> = Vec::with_capacity(sets.len());
    let mut contents: Vec<BTreeSet<String>> = Vec::with_capacity(sets.len());
    // Foreign entries first (they stay, and a wanted one is satisfied by them), then owned ones
    // still wanted, in the first set that holds them.
    for s in sets {
        let mut plan = Plan::default();
        let mut content = BTreeSet::new();
        for c in s.current {
            let n = normalize(c);
            if !s.owned.contains(&n) && content.insert(n.clone()) {
                plan.addresses.push(c.clone());
                plan.foreign += 1;
                placed.insert(n);
            }
        }
        plans.push(plan);
        contents.push(content);
    }
    for (i, s) in sets.iter().enumerate() {
        for c in s.current {
            let n = normalize(c);
            if !s.owned.contains(&n) || contents[i].contains(&n) {
                continue;
            }
            if want_set.contains(&n) && placed.insert(n.clone()) {
                contents[i].insert(n.clone());
                plans[i].addresses.push(n);
            } else {
                plans[i].removed.push(n); // deduplicated below (a Vec lookup here was quadratic)
            }
        }
    }
    // New entries: the first set with room, then the next.
    let mut target = 0;
    let mut not_fitted = Vec::new();
    for d in &want {
        if placed.contains(d) {
            continue;
        }
        while target < sets.len() && contents[target].len() >= capacity {
            target += 1;
        }
        if target == sets.len() {
            not_fitted.push(d.clone());
            continue;
        }
        placed.insert(d.clone());
        contents[target].insert(d.clone());
        plans[target].addresses.push(d.clone());
        plans[target].added.push(d.clone());
    }
    for (i, s) in sets.iter().enumerate() {
        let before: BTreeSet<String> = s.current.iter().map(|c| normalize(c)).collect();
        plans[i].changed = contents[i] != before;
        plans[i].added.sort();
        plans[i].removed.sort();
        plans[i].removed.dedup();
    }
    if let Some(last) = plans.last_mut() {
        last.not_fitted = not_fitted;
    }
    plans
}

/// The entries desired for one IP version of the state's blocklist: none while enforcement is
/// stopped (`floodgate stop`, [`floodgate_core::manual::Stop`]), so every front end that syncs
/// empties floodgate's entries and leaves the others.
pub fn desired_of(state: &floodgate_core::state::State, version: IpVersion) -> &[String] {
    if state.manual.stopped.is_some() {
        return &[];
    }
    match version {
        IpVersion::V4 => &state.blocklist.ipv4,
        IpVersion::V6 => &state.blocklist.ipv6,
    }
}

/// The owned entries of each set, as the state records them.
pub fn owned_of(
    state: &floodgate_core::state::State,
    sets: &[&SyncTarget],
) -> Vec<BTreeSet<String>> {
    sets.iter()
        .map(|t| state.ip_sets.get(&t.set.id).cloned().unwrap_or_default())
        .collect()
}
