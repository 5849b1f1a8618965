//! [`sync_ip_sets`]: the WAF calls and state writes that carry out [`place`](super::place).

use super::{
    desired_of, normalize, owned_of, place, IpSetApi, IpSetSnapshot, IpVersion, Plan, SetView,
    SyncOptions, SyncTarget, WafError,
};
use crate::state_store::{update, Changed, StateBackend};
use floodgate_core::state::State;
use serde::Serialize;
use std::collections::BTreeSet;
use tokio::time::Instant;

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
    /// Desired entries that fit in none of the version's sets (on its last set).
    pub not_fitted: Vec<String>,
    /// Entries of others left in place.
    pub foreign_kept: usize,
    /// Entries in the set after the sync (or the planned count in a dry run).
    pub entries: usize,
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
    /// One per target, in target order.
    pub sets: Vec<SetReport>,
    /// Times the sets were synced again to a newer commit's blocklist (see
    /// [`crate::sinks::IpSetSink`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub resyncs: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
    /// Desired entries that fit nowhere.
    pub fn not_fitted(&self) -> u64 {
        self.sets.iter().map(|s| s.not_fitted.len() as u64).sum()
    }
    /// This report, a later sync of the same targets, with what `earlier` wrote and met kept:
    /// a set written in either round was written, conflicts and throttles add up.
    pub fn after(mut self, earlier: SyncReport) -> SyncReport {
        self.resyncs = earlier.resyncs + 1;
        for (set, old) in self.sets.iter_mut().zip(earlier.sets) {
            set.wrote |= old.wrote;
            set.conflicts += old.conflicts;
            set.throttled += old.throttled;
        }
        self
    }
}

/// Spaces UpdateIPSet calls at least `min_write_interval` apart.
struct Pacer {
    last: Option<Instant>,
}

impl Pacer {
    async fn wait(&mut self, opts: &SyncOptions) {
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + opts.min_write_interval).await;
        }
        self.last = Some(Instant::now());
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
    let mut reports: Vec<Option<SetReport>> = vec![None; targets.len()];
    let mut pacer = Pacer { last: None };
    // What the writes did to ownership, recorded in one state write after all of them.
    let mut owned_changes: Vec<OwnedChange> = Vec::new();
    for version in [IpVersion::V4, IpVersion::V6] {
        let idx: Vec<usize> = (0..targets.len())
            .filter(|&i| targets[i].version == version)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let sets: Vec<&SyncTarget> = idx.iter().map(|&i| &targets[i]).collect();
        let mut reps: Vec<SetReport> = sets.iter().map(|t| blank(t)).collect();
        sync_version(
            waf,
            backend,
            state,
            &sets,
            &mut reps,
            &mut pacer,
            opts,
            version,
            &mut owned_changes,
        )
        .await;
        for (k, &i) in idx.iter().enumerate() {
            reports[i] = Some(std::mem::take(&mut reps[k]));
        }
    }
    let mut sets: Vec<SetReport> = reports.into_iter().flatten().collect();
    if let Err(e) = set_owned(backend, opts, &owned_changes).await {
        let e = format!("recording ownership after the write: {e}");
        for r in sets
            .iter_mut()
            .filter(|r| owned_changes.iter().any(|c| c.id == r.id))
        {
            r.error.get_or_insert_with(|| e.clone());
        }
    }
    SyncReport {
        dry_run: opts.dry_run,
        sets,
        resyncs: 0,
    }
}

/// Entries one set gained and lost, as this writer changed it.
struct OwnedChange {
    id: String,
    added: Vec<String>,
    removed: Vec<String>,
}

fn blank(t: &SyncTarget) -> SetReport {
    SetReport {
        name: t.set.name.clone(),
        id: t.set.id.clone(),
        version: match t.version {
            IpVersion::V4 => "ipv4".into(),
            IpVersion::V6 => "ipv6".into(),
        },
        ..SetReport::default()
    }
}

/// GetIPSet with backoff on throttling.
async fn read<W: IpSetApi>(
    waf: &W,
    t: &SyncTarget,
    rep: &mut SetReport,
    opts: &SyncOptions,
) -> Result<IpSetSnapshot, String> {
    let attempts = opts.retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match waf.get(&t.set).await {
            Ok(s) => return Ok(s),
            Err(WafError::Throttled(_)) if attempt < attempts => {
                rep.throttled += 1;
                opts.retry.backoff(attempt).await;
            }
            Err(e) => return Err(format!("GetIPSet {}: {e}", t.set.name)),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn sync_version<W: IpSetApi, B: StateBackend>(
    waf: &W,
    backend: &B,
    state: &State,
    sets: &[&SyncTarget],
    reps: &mut [SetReport],
    pacer: &mut Pacer,
    opts: &SyncOptions,
    version: IpVersion,
    owned_changes: &mut Vec<OwnedChange>,
) {
    // Read every set of the version first: placement needs all of them. One unreadable set
    // stops the version (placing around it could duplicate its entries elsewhere).
    let mut snaps = Vec::with_capacity(sets.len());
    for (t, rep) in sets.iter().zip(reps.iter_mut()) {
        match read(waf, t, rep, opts).await {
            Ok(s) => snaps.push(s),
            Err(e) => {
                rep.error = Some(e);
                for r in reps.iter_mut().filter(|r| r.error.is_none()) {
                    r.error =
                        Some("not synced: another set of this IP version could not be read".into());
                }
                return;
            }
        }
    }
    let mut owned = owned_of(state, sets);
    // An entry of the sets that this state does not record as ours may be another
    // invocation's, recorded in a newer state (ownership is recorded before every write, and
    // the sets were read just now): take ownership from the current state then, or it would
    // be kept as foreign after its ban ended.
    let unrecorded = snaps
        .iter()
        .zip(&owned)
        .any(|(snap, o)| snap.addresses.iter().any(|a| !o.contains(&normalize(a))));
    if unrecorded {
        if let Ok((current, _)) = backend.load().await {
            owned = owned_of(&current, sets);
        }
    }
    let views: Vec<SetView<'_>> = snaps
        .iter()
        .zip(&owned)
        .map(|(s, o)| SetView {
            current: &s.addresses,
            owned: o,
        })
        .collect();
    let plans = place(&views, desired_of(state, version), opts.capacity);
    if !opts.dry_run {
        // Record the intended ownership of every set's additions before any write (crash
        // safety: an entry written but not recorded would later look foreign), in one state
        // write for the version rather than one per set.
        let intended: Vec<(String, Vec<String>)> = plans
            .iter()
            .zip(&owned)
            .zip(sets)
            .filter(|((p, _), _)| p.changed)
            .map(|((p, o), t)| {
                let new: Vec<String> = p
                    .added
                    .iter()
                    .filter(|a| !o.contains(*a))
                    .cloned()
                    .collect();
                (t.set.id.clone(), new)
            })
            .filter(|(_, new)| !new.is_empty())
            .collect();
        if !intended.is_empty() {
            let r = update(backend, opts.state_retry, |s| {
                let mut changed = false;
                for (id, new) in &intended {
                    let owned = s.ip_sets.entry(id.clone()).or_default();
                    for n in new {
                        changed |= owned.insert(n.clone());
                    }
                }
                Ok(Changed { value: (), changed })
            })
            .await;
            if let Err(e) = r {
                for rep in reps.iter_mut() {
                    rep.error = Some(format!("recording ownership before the write: {e}"));
                }
                return;
            }
            for (o, t) in owned.iter_mut().zip(sets) {
                if let Some((_, new)) = intended.iter().find(|(id, _)| *id == t.set.id) {
                    o.extend(new.iter().cloned());
                }
            }
        }
    }
    for (k, plan) in plans.into_iter().enumerate() {
        let rep = &mut reps[k];
        rep.added = plan.added.clone();
        rep.removed = plan.removed.clone();
        rep.not_fitted = plan.not_fitted.clone();
        rep.foreign_kept = plan.foreign;
        rep.entries = plan.addresses.len();
        if opts.dry_run {
            continue;
        }
        write_one(
            waf,
            backend,
            sets[k],
            snaps[k].clone(),
            owned[k].clone(),
            plan,
            rep,
            pacer,
            opts,
            owned_changes,
        )
        .await;
    }
}

/// Carry out one set's plan; on a lock conflict re-read the set and keep the entries placed
/// here, around whatever the other writer put in.
#[allow(clippy::too_many_arguments)]
async fn write_one<W: IpSetApi, B: StateBackend>(
    waf: &W,
    backend: &B,
    target: &SyncTarget,
    mut snap: IpSetSnapshot,
    mut owned: BTreeSet<String>,
    mut plan: Plan,
    rep: &mut SetReport,
    pacer: &mut Pacer,
    opts: &SyncOptions,
    owned_changes: &mut Vec<OwnedChange>,
) {
    let id = target.set.id.clone();
    // The foreign entries once, not once per address (that was quadratic: 10^8 CIDR parses
    // for a full set of 10,000).
    let foreign = plan_foreign(&snap, &owned);
    let ours: Vec<String> = plan
        .addresses
        .iter()
        .map(|a| normalize(a))
        .filter(|a| !foreign.contains(a))
        .collect();
    let attempts = opts.retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let retry_left = attempt < attempts;
        let new_set: BTreeSet<String> = plan.addresses.iter().map(|a| normalize(a)).collect();
        if !plan.changed {
            // Forget owned entries that are no longer in the set (a crash before an earlier
            // write, or someone removed them by hand). Costs a state write only then.
            let gone: Vec<String> = owned
                .iter()
                .filter(|o| !new_set.contains(*o))
                .cloned()
                .collect();
            if !gone.is_empty() {
                owned_changes.push(OwnedChange {
                    id,
                    added: Vec::new(),
                    removed: gone,
                });
            }
            return;
        }
        if plan.added.iter().any(|a| !owned.contains(a)) {
            // Record the intended ownership before the write (crash safety); the version's
            // first plans were recorded together, so this is for a re-plan after a conflict.
            let intended = OwnedChange {
                id: id.clone(),
                added: plan.added.clone(),
                removed: Vec::new(),
            };
            if let Err(e) = set_owned(backend, opts, &[intended]).await {
                rep.error = Some(format!("recording ownership before the write: {e}"));
                return;
            }
            owned.extend(plan.added.iter().cloned());
        }
        pacer.wait(opts).await;
        match waf
            .update(
                &target.set,
                plan.addresses.clone(),
                snap.description.as_deref(),
                &snap.lock_token,
            )
            .await
        {
            Ok(()) => {
                rep.wrote = true;
                rep.entries = plan.addresses.len();
                let removed: Vec<String> = plan.removed.iter().map(|a| normalize(a)).collect();
                owned_changes.push(OwnedChange {
                    id,
                    added: plan.added.clone(),
                    removed,
                });
                return;
            }
            Err(WafError::OptimisticLock(_)) if retry_left => {
                rep.conflicts += 1;
                opts.retry.backoff(1).await;
                match read(waf, target, rep, opts).await {
                    Ok(fresh) => {
                        snap = fresh;
                        plan = replan(&snap, &owned, &ours, opts.capacity);
                        rep.added = plan.added.clone();
                        rep.removed = plan.removed.clone();
                        rep.foreign_kept = plan.foreign;
                        rep.not_fitted.extend(plan.not_fitted.iter().cloned());
                    }
                    Err(e) => {
                        rep.error = Some(e);
                        return;
                    }
                }
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
                return;
            }
        }
    }
}

/// The foreign entries of a set as read.
fn plan_foreign(snap: &IpSetSnapshot, owned: &BTreeSet<String>) -> BTreeSet<String> {
    snap.addresses
        .iter()
        .map(|a| normalize(a))
        .filter(|a| !owned.contains(a))
        .collect()
}

/// One set again after a conflict: the other writer's entries, then ours as placed.
fn replan(
    snap: &IpSetSnapshot,
    owned: &BTreeSet<String>,
    ours: &[String],
    capacity: usize,
) -> Plan {
    let view = SetView {
        current: &snap.addresses,
        owned,
    };
    let mut p = place(&[view], ours, capacity).remove(0);
    p.changed = true;
    p
}

/// `O' = (O ∪ added) \ removed` for each set changed, written to the freshest state in one
/// write: only what this writer put in or took out. (Intersecting with the set as this writer
/// left it dropped the records of entries another invocation wrote just after, which then
/// looked foreign and stayed after their bans ended.)
async fn set_owned<B: StateBackend>(
    backend: &B,
    opts: &SyncOptions,
    changes: &[OwnedChange],
) -> Result<(), String> {
    if changes.is_empty() {
        return Ok(());
    }
    update(backend, opts.state_retry, |s| {
        let mut changed = false;
        for c in changes {
            let o = s.ip_sets.entry(c.id.clone()).or_default();
            for a in &c.added {
                changed |= o.insert(a.clone());
            }
            for r in &c.removed {
                changed |= o.remove(r);
            }
            if o.is_empty() {
                s.ip_sets.remove(&c.id);
            }
        }
        Ok(Changed { value: (), changed })
    })
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}
