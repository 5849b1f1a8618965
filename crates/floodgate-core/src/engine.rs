//! One run: absorb a tally into the state, decide, settle. Shared by the CLI and the Lambda.
//!
//! ```text
//! state ──absorb(tally)──▶ state' ──sweep──▶ pending offences ──settle──▶ state''
//!                                                   state'' ──replay(now)──▶ bans ──decide──▶ Decision
//! ```
//!
//! The bans are replayed from the settled state, so [`decide_again`] over the saved state
//! gives the run's own decision.
//!
//! [`run`] does all three; [`decide_again`] re-evaluates a saved state without changing it
//! (`floodgate report`, `floodgate explain`); [`expire`] is a run without new data (the
//! Lambda's scheduled event). The semantics of
//! windows, bans and the settled line are in [`crate::window`], [`crate::decision`] and
//! [`crate::state`].

use crate::config::Config;
use crate::decision::{self, Ban, Decision, Offence, Previous};
use crate::ingest::FileSummary;
use crate::key::Key;
use crate::ranges::Population;
use crate::reject::RejectStats;
use crate::rules::Rule;
use crate::state::{KeyWindow, LastRun, State, StateError};
use crate::tally::Tally;
use crate::window::{self, Found};
use rustc_hash::FxHashMap;

/// What a run read, besides the counts.
#[derive(Clone, Debug, Default)]
pub struct RunInput {
    /// Counts of every object read in this run, merged.
    pub tally: Tally,
    /// One summary per object read.
    pub files: Vec<FileSummary>,
    /// Ids of the objects read (recorded so they are not counted twice).
    pub processed_ids: Vec<String>,
    /// Objects skipped because the state had them already.
    pub skipped: Vec<String>,
}

/// Unsettled offences per rule (index) and key.
type Pending = FxHashMap<(usize, Key), Vec<Found>>;

/// Fewest entries moved out of a tally between two shrinks of its vector (see [`absorb`]).
const SHRINK_MIN: usize = 4096;

/// Move the tally's counts into the state. The caller has checked the resolution.
///
/// Memory: the bucket vectors are moved, not copied, and each rule's entries are drained from
/// the back of the tally's vector (its index is freed first), which is shrunk each time an
/// eighth of it (at least [`SHRINK_MIN`] entries) is free: the counts of a run are held about
/// once, whether the state's map is new or already large, instead of once in the tally and
/// once in the state.
fn absorb(config: &Config, state: &mut State, tally: &mut Tally) -> u64 {
    state.resolution_ms = config.engine.resolution_ms;
    // Lateness was judged per source while reading (`crate::lateness`): a request older than
    // the settled line that was not late (a source the state had not seen, or one that is
    // behind) is merged into its windows like any other, and swept with them.
    let late = tally.late;
    for (i, rule) in config.rules.iter().enumerate() {
        let keys = state.rules.entry(rule.name.clone()).or_default();
        let mut counted = std::mem::take(&mut tally.rules[i]).into_entries();
        if keys.is_empty() {
            keys.reserve(counted.len());
        }
        while let Some((key, counts)) = counted.pop() {
            if counted.capacity() - counted.len() >= (counted.capacity() / 8).max(SHRINK_MIN) {
                counted.shrink_to_fit();
            }
            let buckets = counts.buckets;
            if buckets.is_empty() {
                continue;
            }
            if let (Some(f), Some(l)) = (buckets.first(), buckets.last()) {
                state
                    .history
                    .observe(crate::history::network(config, key), f.0, l.0);
            }
            let kw = keys.get_or_insert_with(key, KeyWindow::default);
            if kw.buckets.is_empty() {
                kw.buckets = buckets;
            } else {
                window::merge(&mut kw.buckets, &buckets);
            }
        }
    }
    for (key, p) in std::mem::take(&mut tally.profiles) {
        state.profiles.entry(key).or_default().merge(&p);
    }
    for (key, b) in std::mem::take(&mut tally.presence) {
        state
            .history
            .observe(crate::history::network(config, key), b, b);
        let mine = state.presence.entry(key).or_insert(b);
        *mine = (*mine).max(b);
    }
    state.watermark_ms = tally.last_ms.max(state.watermark_ms);
    for (f, m) in &tally.sources {
        let mine = state.sources.entry(f.as_str().to_string()).or_insert(*m);
        *mine = (*mine).max(*m);
    }
    for (m, n) in &tally.per_minute {
        *state.per_minute.entry(*m).or_insert(0) += n;
    }
    state.late_total += late;
    late
}

/// The offence a sweep found, as stored and replayed.
fn offence(rule: &Rule, f: &Found, resolution_ms: i64, peak: u32) -> Offence {
    Offence {
        time_ms: f.bucket as i64 * resolution_ms,
        rule: rule.name.clone(),
        count: f.count,
        limit: rule.limit,
        window_ms: rule.window_ms,
        peak,
    }
}

/// The unsettled offences of every held window, per rule and key (and the peaks refreshed).
fn sweep_all(config: &Config, state: &mut State) -> Pending {
    let res = config.engine.resolution_ms;
    let mut pending = FxHashMap::default();
    for (i, rule) in config.rules.iter().enumerate() {
        let Some(keys) = state.rules.get_mut(&rule.name) else {
            continue;
        };
        let w = (rule.window_ms / res) as u32;
        for (key, kw) in keys.iter_mut() {
            // From the first held bucket, not the settled line: requests of a source that is
            // behind may land before the line (`crate::lateness`). Offences already settled are
            // not found again: counting restarts after `reset`, and every window before the
            // line that did not offend then holds no more now than it did.
            let s = window::sweep(&kw.buckets, w, rule.limit, kw.reset, 0);
            // The peak is a max over the same buckets: updating it here is idempotent, and
            // saves a per-key map (memory per key is the budget that matters at 1 M clients).
            kw.peak = kw.peak.max(s.peak);
            if !s.offences.is_empty() {
                pending.insert((i, *key), s.offences);
            }
        }
    }
    pending
}

/// Every key's ban, replayed from its settled offences and its `pending` ones, at `now_ms`;
/// then the manual bans.
fn replay_all(config: &Config, state: &State, pending: &Pending, now_ms: i64) -> Vec<Ban> {
    let res = config.engine.resolution_ms;
    // Hash maps: the order of `bans` does not matter (decide sorts them by a total order).
    let mut by_key: FxHashMap<Key, Vec<Offence>> = FxHashMap::default();
    for ((i, key), found) in pending {
        let rule = &config.rules[*i];
        let peak = state
            .rules
            .get(&rule.name)
            .and_then(|m| m.get(key))
            .map_or(0, |kw| kw.peak);
        let list = by_key.entry(*key).or_default();
        list.extend(found.iter().map(|f| offence(rule, f, res, peak)));
    }
    for (key, settled) in &state.offences {
        by_key
            .entry(*key)
            .or_default()
            .extend(settled.iter().cloned());
    }
    let mut bans = Vec::with_capacity(by_key.len() + state.manual.bans.len());
    let (v4, v6) = (config.ban.ipv4_prefix, config.ban.ipv6_prefix);
    for (key, mut offences) in by_key {
        if !state.manual.unbans.is_empty() {
            // Offences an operator lifted (`floodgate unban`) do not count (crate::manual).
            let cidr = key.cidr(v4, v6);
            offences.retain(|o| !state.manual.lifts(&cidr, o.time_ms));
            if offences.is_empty() {
                continue;
            }
        }
        offences.sort();
        // Severity: the highest peak / limit over the key's rules, held windows and settled
        // offences alike (offences keep the peak after their window is dropped).
        let mut best = (0u32, 1u32);
        let mut consider = |peak: u32, limit: u32| {
            if (peak as u64) * (best.1 as u64) > (best.0 as u64) * (limit as u64) {
                best = (peak, limit);
            }
        };
        for rule in &config.rules {
            if let Some(kw) = state.rules.get(&rule.name).and_then(|m| m.get(&key)) {
                consider(kw.peak, rule.limit);
            }
        }
        for o in &offences {
            consider(o.peak, o.limit);
        }
        let peak = if best.0 > 0 { best } else { (0, 0) };
        if let Some(b) = decision::replay(config, key, &offences, peak, now_ms) {
            bans.push(b);
        }
    }
    bans.extend(state.manual.as_bans(v4, v6));
    bans
}

/// Move offences before the new settled line into the state and drop what the horizon no
/// longer needs (buckets, presence, offences, profiles, processed ids, minutes).
fn settle(config: &Config, state: &mut State, pending: &mut Pending) {
    let res = config.engine.resolution_ms;
    let Some(m) = state.watermark_ms else { return };
    let new_settled = crate::lateness::settled_line(config, state);
    for (i, rule) in config.rules.iter().enumerate() {
        let Some(keys) = state.rules.get_mut(&rule.name) else {
            continue;
        };
        let w = (rule.window_ms / res) as u32;
        let keep_from = new_settled.saturating_sub(w);
        keys.retain(|key, kw| {
            if let Some(found) = pending.get(&(i, *key)) {
                for f in found.iter().filter(|f| f.bucket < new_settled) {
                    state
                        .offences
                        .entry(*key)
                        .or_default()
                        .push(offence(rule, f, res, kw.peak));
                    kw.reset = Some(f.bucket);
                }
            }
            let cut = kw.buckets.partition_point(|p| p.0 < keep_from);
            kw.buckets.drain(..cut);
            let keep = !kw.buckets.is_empty() || kw.reset.is_some_and(|r| r >= keep_from);
            if !keep {
                // The window is gone: its peak lives on in the key's offences under this rule.
                for o in state
                    .offences
                    .get_mut(key)
                    .into_iter()
                    .flatten()
                    .filter(|o| o.rule == rule.name)
                {
                    o.peak = o.peak.max(kw.peak);
                }
            }
            keep
        });
    }
    // What was settled is in `state.offences` now; the rest is still pending.
    pending.retain(|_, found| {
        found.retain(|f| f.bucket >= new_settled);
        !found.is_empty()
    });
    state
        .rules
        .retain(|name, _| config.rules.iter().any(|r| &r.name == name));
    // An offence counts for the escalation of the offences up to `memory` after it, whose bans
    // last up to `max_duration`: kept that long, every ban still active at the watermark
    // replays as it did with every offence (a shorter horizon lost the escalation of a ban
    // still active, and `report` of the state disagreed with the run that wrote it).
    let horizon = m - config.ban.memory_ms.max(config.ban.max_duration_ms) - config.ban.memory_ms;
    state.offences.retain(|_, list| {
        list.sort();
        list.retain(|o| o.time_ms > horizon);
        !list.is_empty()
    });
    let (rules, offences) = (&state.rules, &state.offences);
    state
        .profiles
        .retain(|k, _| offences.contains_key(k) || rules.values().any(|m| m.contains_key(k)));
    crate::evidence::bound(
        &mut state.profiles,
        &state.offences,
        crate::evidence::STATE_EVIDENCE_BUDGET,
    );
    state.manual.prune(horizon, m - config.ban.memory_ms);
    let memory = m - config.ban.memory_ms;
    // A stream batch counted at or before the settled line would only be late if delivered
    // again (see `state::streams`); an object is remembered for `ban.memory`.
    let settled_ms = i64::from(new_settled) * res;
    state.processed.retain(|id, at| {
        if crate::state::streams::is_stream_id(id) {
            *at >= settled_ms
        } else {
            *at > memory
        }
    });
    let first_minute = (memory.max(0) / 60_000) as u32;
    state.per_minute.retain(|minute, _| *minute >= first_minute);
    let history_from = (memory.max(0) / res).min(i64::from(u32::MAX)) as u32;
    state.history.prune(history_from);
    let presence_from = new_settled.saturating_sub((config.max_window_ms() / res) as u32);
    state.presence.retain(|_, b| *b >= presence_from);
    state.settled_bucket = new_settled;
}

/// Every distinct key seen within the horizon: the held windows of a rule that counts every
/// request (or the presence map when none does), plus the keys with offences.
fn seen_keys<'a>(config: &Config, state: &'a State) -> Box<dyn Iterator<Item = Key> + 'a> {
    let offences = state.offences.keys().copied();
    match config
        .unfiltered_rule()
        .and_then(|i| state.rules.get(&config.rules[i].name))
    {
        Some(map) => Box::new(
            map.keys()
                .copied()
                .chain(offences.filter(move |k| !map.contains_key(k))),
        ),
        None => Box::new(
            state
                .presence
                .keys()
                .copied()
                .chain(offences.filter(|k| !state.presence.contains_key(k))),
        ),
    }
}

/// The clients seen in `state` (see [`crate::ranges::Population`]), per network of `networks`.
pub fn population(
    config: &Config,
    state: &State,
    networks: &rustc_hash::FxHashSet<ipnet::IpNet>,
) -> Population {
    Population::count(config, seen_keys(config, state), networks)
}

/// Decide `bans` at `now_ms` against the state's population and the given previous decision.
fn decide_on(
    config: &Config,
    state: &State,
    bans: Vec<Ban>,
    now_ms: i64,
    previous: Previous<'_>,
) -> Decision {
    decision::decide(
        config,
        bans,
        now_ms,
        previous,
        &|networks| population(config, state, networks),
        &state.history,
    )
}

/// Absorb `input` into `state`, decide at `now_ms` (default: the watermark), settle, and
/// remember the run. The state is changed only when this returns `Ok`.
pub fn run(
    config: &Config,
    state: &mut State,
    input: RunInput,
    now_ms: Option<i64>,
    dry_run: bool,
) -> Result<Decision, StateError> {
    // The only error is a state counted with another resolution: checked before anything
    // changes, so the state is untouched on error without copying it.
    state.check_resolution(config.engine.resolution_ms)?;
    let RunInput {
        mut tally,
        files,
        processed_ids,
        skipped,
    } = input;
    let (records, allowlisted, first_ms, last_ms) = (
        tally.records,
        tally.allowlisted,
        tally.first_ms,
        tally.last_ms,
    );
    let distinct_keys = tally.distinct_keys();
    let late = absorb(config, state, &mut tally);
    drop(tally);
    let watermark = state.watermark_ms.unwrap_or(0);
    for id in processed_ids {
        state.processed.insert(id, watermark);
    }
    let now = now_ms.unwrap_or(watermark);
    let mut pending = sweep_all(config, state);
    let near_misses =
        crate::near_miss::collect(config, state, &|i, key| pending.contains_key(&(i, *key)));
    // Settle first, then replay and decide on the settled state: `decide_again` over the saved
    // state sees the same offences and population, and so reproduces this decision.
    settle(config, state, &mut pending);
    let bans = replay_all(config, state, &pending, now);
    let prev_active = std::mem::take(&mut state.active);
    let prev_blocklist = std::mem::take(&mut state.blocklist);
    let decision = decide_on(
        config,
        state,
        bans,
        now,
        Previous {
            active: &prev_active,
            blocklist: &prev_blocklist,
        },
    );
    state.active = decision.kept.iter().copied().collect();
    state.blocklist = decision.blocklist.clone();
    let mut rejected = RejectStats::default();
    let mut files = files;
    for f in &mut files {
        rejected.merge(&f.rejected);
        // The run's samples are kept once, in `rejected`; per file only the counts (a run over
        // many damaged files kept every file's samples twice in the state, and nothing reads
        // them back: reports show the run's samples and each file's total).
        f.rejected.samples.clear();
    }
    state.last_run = LastRun {
        now_ms: now,
        dry_run,
        prev_active,
        prev_blocklist,
        files,
        skipped,
        rejected,
        records,
        allowlisted,
        late,
        distinct_keys,
        first_ms,
        last_ms,
        near_misses,
    };
    Ok(decision)
}

/// Re-evaluate a saved state at `now_ms` against the decision *before* its last run, which
/// reproduces that run's decision (for re-rendering reports) when `now_ms` is the run's time.
pub fn decide_again(config: &Config, state: &State, now_ms: i64) -> Decision {
    // sweep_all() refreshes peaks in place; work on a copy so this stays read-only.
    let mut state = state.clone();
    let pending = sweep_all(config, &mut state);
    let bans = replay_all(config, &state, &pending, now_ms);
    let previous = Previous {
        active: &state.last_run.prev_active,
        blocklist: &state.last_run.prev_blocklist,
    };
    decide_on(config, &state, bans, now_ms, previous)
}

/// Evaluate a saved state at `now_ms` as a new run with no new data: expiry and the new-ban
/// guardrail relative to the last decision (the Lambda's scheduled event). Updates `state`.
pub fn expire(
    config: &Config,
    state: &mut State,
    now_ms: i64,
    dry_run: bool,
) -> Result<Decision, StateError> {
    let input = RunInput {
        tally: Tally::new(config, state.settled_bucket),
        ..RunInput::default()
    };
    run(config, state, input, Some(now_ms), dry_run)
}
