//! [`Report::build`]: the report of a state's last run and its decision.

use super::*;
use crate::config::Config;
use crate::decision::Decision;
use crate::ingest::FileSummary;
use crate::state::State;
use crate::timefmt::format_rfc3339_ms;
use std::collections::BTreeMap;

/// The top [`TOP_N`] values of a sketch.
fn counted(t: &crate::sketch::TopK) -> Vec<Counted> {
    t.top(TOP_N)
        .into_iter()
        .map(|(value, count)| Counted { value, count })
        .collect()
}

fn rounded(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Values counted, most first (ties by value), at most `max` and the rest as `other`.
fn ranked(counts: BTreeMap<String, u64>, max: usize) -> Vec<Counted> {
    let mut v: Vec<Counted> = counts
        .into_iter()
        .map(|(value, count)| Counted {
            value: value.into(),
            count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    if v.len() > max {
        let other: u64 = v[max..].iter().map(|c| c.count).sum();
        v.truncate(max);
        v.push(Counted {
            value: "other".into(),
            count: other,
        });
    }
    v
}

fn attack(state: &State, d: &Decision) -> Attack {
    let active: Vec<&crate::decision::Ban> = d.bans.iter().filter(|b| b.active).collect();
    let offenders = active.len() as u64;
    let blocked = d.kept.len() as u64;
    let mut held_back = BTreeMap::new();
    for x in &d.dropped {
        *held_back.entry(x.reason.clone()).or_insert(0) += 1;
    }
    let (mut by_rule, mut by_country) = (BTreeMap::new(), BTreeMap::new());
    for b in &active {
        *by_rule.entry(b.rule.clone()).or_insert(0) += 1;
        let c = state
            .profiles
            .get(&b.key)
            .and_then(|p| p.country.clone())
            .unwrap_or_else(|| "unknown".into());
        *by_country.entry(c).or_insert(0) += 1;
    }
    let range_entries = d.ranges.iter().filter(|r| r.blocked).count() as u64;
    let covered_by_ranges: u64 = d
        .ranges
        .iter()
        .filter(|r| r.blocked)
        .map(|r| r.members.len() as u64)
        .sum();
    Attack {
        offenders,
        blocked,
        coverage: if offenders == 0 {
            1.0
        } else {
            (blocked as f64 / offenders as f64 * 1000.0).floor() / 1000.0
        },
        clients_seen: d.clients_seen,
        range_entries,
        single_entries: blocked.saturating_sub(covered_by_ranges),
        held_back,
        by_rule: ranked(by_rule, usize::MAX),
        by_country: ranked(by_country, 20),
    }
}

fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(format_rfc3339_ms)
}

fn file_entry(f: &FileSummary) -> FileEntry {
    FileEntry {
        path: f.path.clone(),
        format: f.format.map(|x| x.as_str().to_string()),
        gzip: f.gzip,
        records: f.records,
        rejected: f.rejected.total(),
        bytes: f.bytes_in,
        complete: f.complete,
        damage: f.damage.clone(),
        first_event: opt_time(f.first_time_ms),
        last_event: opt_time(f.last_time_ms),
    }
}

impl Report {
    /// Build the report of the state's last run and `decision`.
    pub fn build(config: &Config, state: &State, decision: &Decision) -> Report {
        let run = &state.last_run;
        let blocked: std::collections::BTreeSet<_> = decision.kept.iter().collect();
        let mut range_of = rustc_hash::FxHashMap::default();
        for r in decision.ranges.iter().filter(|r| r.blocked) {
            for k in &r.members {
                range_of.insert(*k, r.cidr.to_string());
            }
        }
        let bans: Vec<BanEntry> = decision
            .bans
            .iter()
            .map(|b| {
                let profile = state.profiles.get(&b.key);
                BanEntry {
                    cidr: b.cidr.to_string(),
                    rule: b.rule.clone(),
                    rules: b.rules.clone(),
                    offences: b.offences,
                    first_offence: format_rfc3339_ms(b.first_offence_ms),
                    last_offence: format_rfc3339_ms(b.last_offence_ms),
                    since: format_rfc3339_ms(b.since_ms),
                    until: format_rfc3339_ms(b.until_ms),
                    active: b.active,
                    new: b.new,
                    blocked: blocked.contains(&b.key),
                    peak: b.peak,
                    limit: b.peak_limit,
                    severity: (b.severity * 100.0).round() / 100.0,
                    country: profile.and_then(|p| p.country.clone()),
                    top_paths: profile.map(|p| counted(&p.paths)).unwrap_or_default(),
                    top_user_agents: profile.map(|p| counted(&p.user_agents)).unwrap_or_default(),
                    range: range_of.get(&b.key).cloned(),
                }
            })
            .collect();
        let rules = config
            .rules
            .iter()
            .map(|r| RuleEntry {
                name: r.name.clone(),
                window: human_duration(r.window_ms),
                limit: r.limit,
                filters: r.filters.describe(),
                keys_tracked: state.rules.get(&r.name).map_or(0, |k| k.len() as u64),
                bans: decision.bans.iter().filter(|b| b.rule == r.name).count() as u64,
            })
            .collect();
        let mut ban_starts: Vec<(i64, String)> = decision
            .bans
            .iter()
            .map(|b| (b.since_ms, b.cidr.to_string()))
            .collect();
        ban_starts.sort();
        let mut per_minute: BTreeMap<i64, u64> = BTreeMap::new();
        for (t, _) in &ban_starts {
            *per_minute.entry(t.div_euclid(60_000) * 60_000).or_insert(0) += 1;
        }
        let (first, last) = (
            run.first_ms.map(|t| t / 60_000),
            run.last_ms.map(|t| t / 60_000),
        );
        let requests_per_minute = state
            .per_minute
            .iter()
            .filter(|(m, _)| {
                first.is_none_or(|f| **m as i64 >= f) && last.is_none_or(|l| **m as i64 <= l)
            })
            .map(|(m, n)| (*m as i64 * 60_000, *n))
            .collect();
        let files: Vec<FileEntry> = run.files.iter().map(file_entry).collect();
        let summary = Summary {
            files: files.len() as u64,
            incomplete_files: files.iter().filter(|f| !f.complete).count() as u64,
            skipped_files: run.skipped.len() as u64,
            records: run.records,
            bytes: run.files.iter().map(|f| f.bytes_in).sum(),
            bytes_decoded: run.files.iter().map(|f| f.bytes_decoded).sum(),
            rejected: run.rejected.total(),
            late: run.late,
            allowlisted: run.allowlisted,
            distinct_clients: run.distinct_keys,
            first_event: opt_time(run.first_ms),
            last_event: opt_time(run.last_ms),
            bans_active: decision.bans.iter().filter(|b| b.active).count() as u64,
            bans_new: decision.bans.iter().filter(|b| b.new).count() as u64,
            bans_total: decision.bans.len() as u64,
            blocklist_entries: (decision.blocklist.ipv4.len() + decision.blocklist.ipv6.len())
                as u64,
        };
        Report {
            schema: SCHEMA.to_string(),
            generator: format!("floodgate {}", env!("CARGO_PKG_VERSION")),
            now: format_rfc3339_ms(decision.now_ms),
            dry_run: run.dry_run,
            summary,
            files,
            skipped: run.skipped.clone(),
            rejected: run.rejected.clone(),
            rules,
            bans,
            blocklist: decision.blocklist.clone(),
            dropped: decision
                .dropped
                .iter()
                .map(|d| DroppedEntry {
                    cidr: d.cidr.to_string(),
                    rule: d.rule.clone(),
                    reason: d.reason.clone(),
                    severity: (d.severity * 100.0).round() / 100.0,
                    until: format_rfc3339_ms(d.until_ms),
                })
                .collect(),
            changes: decision.changes.clone(),
            timeline: Timeline {
                requests_per_minute,
                ban_starts,
                bans_per_minute: per_minute.into_iter().collect(),
            },
            near_misses: state.last_run.near_misses.clone(),
            ranges: decision
                .ranges
                .iter()
                .map(|r| RangeEntry {
                    cidr: r.cidr.to_string(),
                    members: r.members.len() as u64,
                    clients_seen: r.clients_seen as u64,
                    share: rounded(r.members.len() as f64 / r.clients_seen.max(1) as f64),
                    rule: r.rule.clone(),
                    severity: rounded(r.severity),
                    since: format_rfc3339_ms(r.since_ms),
                    until: format_rfc3339_ms(r.until_ms),
                    new: r.new,
                    blocked: r.blocked,
                })
                .collect(),
            guardrail: decision
                .tripped
                .iter()
                .map(|t| TrippedEntry {
                    rule: t.rule.clone(),
                    bans: t.bans,
                    clients: t.clients,
                    networks: t.networks,
                    of_networks: t.of_networks,
                    basis: t.basis.clone(),
                    share: rounded(t.share),
                    held_back: t.held_back,
                    why: t.why(),
                })
                .collect(),
            attack: attack(state, decision),
        }
    }
}
