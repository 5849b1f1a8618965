//! CloudWatch Embedded Metric Format: one JSON line on stdout per invocation.
//!
//! Lambda forwards stdout to CloudWatch Logs, which turns EMF lines into metrics without any
//! API call (no PutMetricData permission, no latency). The dimension set is empty
//! (`"Dimensions": [[]]`), so the infra alarms on the dimensionless metrics (`SyncFailures`,
//! `StateBytes`, …) see them.

use crate::ipsets::SyncReport;
use floodgate_core::decision::Decision;
use floodgate_core::state::LastRun;
use serde_json::{json, Map, Value};

/// Default namespace (`FLOODGATE_METRICS_NAMESPACE`).
pub const DEFAULT_NAMESPACE: &str = "floodgate";

/// The metrics of one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Records parsed.
    pub records: u64,
    /// Log bytes read (compressed).
    pub bytes: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Records older than the settled line.
    pub late: u64,
    /// Blocklist entries added by this decision.
    pub bans_added: u64,
    /// Blocklist entries removed (bans expired or dropped).
    pub bans_expired: u64,
    /// Bans active after the decision.
    pub bans_active: u64,
    /// Successful UpdateIPSet calls.
    pub sync_writes: u64,
    /// Optimistic-lock conflicts on IP sets plus state write conflicts.
    pub sync_conflicts: u64,
    /// IP sets that could not be synced.
    pub sync_failures: u64,
    /// Blocklist entries that fit in none of the IP sets.
    pub not_fitted: u64,
    /// Rules the broken-rule guardrail stopped.
    pub guardrail_tripped: u64,
    /// Active bans left out of the blocklist (any reason: allowlist, guardrail, capacity).
    pub bans_held_back: u64,
    /// Networks banned whole.
    pub range_bans: u64,
    /// Sinks (reports, notifications) that failed.
    pub sink_failures: u64,
    /// Objects, log groups or streams refused: outside the configured log sources.
    pub refused: u64,
    /// Wall time of the invocation.
    pub duration_ms: u64,
    /// Size of the encoded state after the commit (`None` when the invocation committed
    /// nothing, and then left out of the line): what an attack makes the state grow to, for
    /// an alarm well before the state outgrows the function's memory.
    pub state_bytes: Option<u64>,
}

impl Metrics {
    /// Add what a committed run read (from the state's record of it).
    pub fn add_run(&mut self, run: &LastRun) {
        self.records += run.records;
        for f in &run.files {
            self.bytes += f.bytes_in;
        }
        self.rejected += run.rejected.total();
    }

    /// Add what a decision changed.
    pub fn add_decision(&mut self, d: &Decision, late: u64) {
        self.late += late;
        self.bans_added += d.changes.added.len() as u64;
        self.bans_expired += d.changes.removed.len() as u64;
        self.bans_active = d.bans.iter().filter(|b| b.active).count() as u64;
        self.guardrail_tripped += d.tripped.len() as u64;
        // Held back by a guardrail or the capacity: an allowlisted address with a ban is the
        // operator's choice, not something to alarm on.
        self.bans_held_back += d
            .dropped
            .iter()
            .filter(|x| x.reason != "allowlisted")
            .count() as u64;
        self.range_bans = d.ranges.iter().filter(|r| r.blocked).count() as u64;
    }

    /// Add what a sync did.
    pub fn add_sync(&mut self, r: &SyncReport) {
        self.sync_writes += r.writes();
        self.sync_conflicts += r.conflicts();
        self.sync_failures += r.failures();
        self.not_fitted += r.not_fitted();
    }

    fn values(&self) -> Vec<(&'static str, u64, &'static str)> {
        let mut values = vec![
            ("Records", self.records, "Count"),
            ("Bytes", self.bytes, "Bytes"),
            ("Rejected", self.rejected, "Count"),
            ("Late", self.late, "Count"),
            ("BansAdded", self.bans_added, "Count"),
            ("BansExpired", self.bans_expired, "Count"),
            ("BansActive", self.bans_active, "Count"),
            ("SyncWrites", self.sync_writes, "Count"),
            ("SyncConflicts", self.sync_conflicts, "Count"),
            ("SyncFailures", self.sync_failures, "Count"),
            ("NotFitted", self.not_fitted, "Count"),
            ("GuardrailTripped", self.guardrail_tripped, "Count"),
            ("BansHeldBack", self.bans_held_back, "Count"),
            ("RangeBans", self.range_bans, "Count"),
            ("SinkFailures", self.sink_failures, "Count"),
            ("Refused", self.refused, "Count"),
            ("DurationMs", self.duration_ms, "Milliseconds"),
        ];
        if let Some(bytes) = self.state_bytes {
            values.push(("StateBytes", bytes, "Bytes"));
        }
        values
    }

    /// The EMF document (one line when serialised).
    pub fn emf(&self, namespace: &str, timestamp_ms: i64) -> Value {
        let values = self.values();
        let defs: Vec<Value> = values
            .iter()
            .map(|(n, _, u)| json!({"Name": n, "Unit": u}))
            .collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": namespace,
                    "Dimensions": [[]],
                    "Metrics": defs,
                }]
            }),
        );
        for (n, v, _) in values {
            root.insert(n.into(), json!(v));
        }
        Value::Object(root)
    }

    /// Print the EMF line on stdout.
    pub fn emit(&self, namespace: &str, timestamp_ms: i64) {
        println!("{}", self.emf(namespace, timestamp_ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_has_every_metric_without_dimensions() {
        let m = Metrics {
            sync_failures: 1,
            records: 7,
            ..Metrics::default()
        };
        let v = m.emf("ns", 1000);
        let cw = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "ns");
        assert_eq!(cw["Dimensions"], json!([[]]));
        assert_eq!(cw["Metrics"].as_array().unwrap().len(), 17);
        assert_eq!(v["SyncFailures"], 1);
        assert_eq!(v["Records"], 7);
        assert_eq!(v["_aws"]["Timestamp"], 1000);
        assert!(!v.to_string().contains('\n'));
        assert!(
            v.get("StateBytes").is_none(),
            "unknown size: left out, not 0"
        );

        let committed = Metrics {
            state_bytes: Some(123_456),
            ..m
        };
        let v = committed.emf("ns", 1000);
        let defs = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(defs.len(), 18);
        assert!(defs.contains(&json!({"Name": "StateBytes", "Unit": "Bytes"})));
        assert_eq!(v["StateBytes"], 123_456);
    }
}
