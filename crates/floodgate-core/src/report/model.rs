//! The report model (`report.json`): every field is documented in docs/report-schema.md.

use crate::reject::RejectStats;
use serde::{Deserialize, Serialize};

/// `report.json`. Field meanings are documented in docs/report-schema.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`](super::SCHEMA).
    pub schema: String,
    /// floodgate version that wrote it.
    pub generator: String,
    /// Decision time (RFC 3339).
    pub now: String,
    /// Whether IP sets were left untouched on purpose.
    pub dry_run: bool,
    /// Totals.
    pub summary: Summary,
    /// One entry per object read.
    pub files: Vec<FileEntry>,
    /// Objects skipped because the state had them already.
    pub skipped: Vec<String>,
    /// Rejected lines by reason, with samples.
    pub rejected: RejectStats,
    /// The rules and what they caught.
    pub rules: Vec<RuleEntry>,
    /// Every key with an offence within memory, most severe first.
    pub bans: Vec<BanEntry>,
    /// Networks banned as one entry, most members first.
    pub ranges: Vec<RangeEntry>,
    /// Rules the broken-rule guardrail stopped in this decision.
    pub guardrail: Vec<TrippedEntry>,
    /// The attack at a glance: coverage, what was held back, bans by rule and country.
    pub attack: Attack,
    /// The blocklist.
    pub blocklist: crate::decision::Blocklist,
    /// Active bans left out, and why.
    pub dropped: Vec<DroppedEntry>,
    /// Versus the previous decision.
    pub changes: crate::decision::Changes,
    /// Requests per minute and ban starts, for charts.
    pub timeline: Timeline,
    /// Clients that reached half a rule's limit without offending it, per rule highest first.
    #[serde(default)]
    pub near_misses: Vec<crate::near_miss::NearMiss>,
}

/// `summary`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects read.
    pub files: u64,
    /// Objects that could not be read to the end.
    pub incomplete_files: u64,
    /// Objects skipped as already processed.
    pub skipped_files: u64,
    /// Records parsed.
    pub records: u64,
    /// Bytes read (compressed).
    pub bytes: u64,
    /// Bytes after decompression.
    pub bytes_decoded: u64,
    /// Rejected lines.
    pub rejected: u64,
    /// Records older than the settled line (counted, not windowed).
    pub late: u64,
    /// Records from allowlisted addresses.
    pub allowlisted: u64,
    /// Distinct client keys counted by at least one rule.
    pub distinct_clients: u64,
    /// Earliest event (RFC 3339).
    pub first_event: Option<String>,
    /// Latest event (RFC 3339).
    pub last_event: Option<String>,
    /// Bans active at `now`.
    pub bans_active: u64,
    /// Of those, new since the previous decision.
    pub bans_new: u64,
    /// Keys with offences within memory (active or expired).
    pub bans_total: u64,
    /// Entries in the blocklist.
    pub blocklist_entries: u64,
}

/// `files[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path or URL.
    pub path: String,
    /// Detected format.
    pub format: Option<String>,
    /// gzip or plain.
    pub gzip: bool,
    /// Records parsed.
    pub records: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Read to the end.
    pub complete: bool,
    /// Why not.
    pub damage: Option<String>,
    /// Earliest event.
    pub first_event: Option<String>,
    /// Latest event.
    pub last_event: Option<String>,
}

/// `rules[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleEntry {
    /// Name.
    pub name: String,
    /// Window, e.g. `5m`.
    pub window: String,
    /// Limit.
    pub limit: u32,
    /// Filters, human readable.
    pub filters: String,
    /// Keys with counts held for this rule.
    pub keys_tracked: u64,
    /// Keys whose latest offence was under this rule.
    pub bans: u64,
}

/// A value and how often it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// The value (decoded for display, still unescaped); shared with the profile it came from.
    pub value: std::sync::Arc<str>,
    /// Occurrences.
    pub count: u64,
}

/// `bans[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BanEntry {
    /// CIDR.
    pub cidr: String,
    /// Rule of the latest offence.
    pub rule: String,
    /// Every rule offended.
    pub rules: Vec<String>,
    /// Offences within memory.
    pub offences: u32,
    /// First offence (RFC 3339).
    pub first_offence: String,
    /// Last offence.
    pub last_offence: String,
    /// Start of the current ban.
    pub since: String,
    /// End of the ban.
    pub until: String,
    /// Active at `now`.
    pub active: bool,
    /// Active now and not before.
    pub new: bool,
    /// In the blocklist (active and not dropped).
    pub blocked: bool,
    /// Highest window count.
    pub peak: u32,
    /// Limit of that rule.
    pub limit: u32,
    /// peak / limit.
    pub severity: f64,
    /// Country (WAF only).
    pub country: Option<String>,
    /// Most requested paths.
    pub top_paths: Vec<Counted>,
    /// Most used user agents.
    pub top_user_agents: Vec<Counted>,
    /// The range ban covering this key, if any.
    pub range: Option<String>,
}

/// `ranges[]`: a network banned as one entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RangeEntry {
    /// The network.
    pub cidr: String,
    /// Offending keys it covers.
    pub members: u64,
    /// Distinct keys seen in it.
    pub clients_seen: u64,
    /// `members / clients_seen`.
    pub share: f64,
    /// The rule most members offended last.
    pub rule: String,
    /// Highest severity of its members.
    pub severity: f64,
    /// Earliest start of its members' bans.
    pub since: String,
    /// Latest end of its members' bans.
    pub until: String,
    /// Not in the previous blocklist.
    pub new: bool,
    /// In the blocklist (false: left out by `max_entries`).
    pub blocked: bool,
}

/// `guardrail[]`: a rule stopped by the broken-rule guardrail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrippedEntry {
    /// The rule.
    pub rule: String,
    /// Active bans that offended it.
    pub bans: u64,
    /// Clients seen.
    pub clients: u64,
    /// Offending networks counted (see `basis`).
    pub networks: u64,
    /// The networks judged against.
    pub of_networks: u64,
    /// `established` (networks first seen well before the rule's new offences) or
    /// `networks seen` (no history yet).
    pub basis: String,
    /// `networks / of_networks`.
    pub share: f64,
    /// New bans held back (listed in `dropped` with reason `guardrail`).
    pub held_back: u64,
    /// What tripped, in one sentence.
    pub why: String,
}

/// `attack`: how much of what offended is blocked, and what held the rest back.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attack {
    /// Keys with an active ban.
    pub offenders: u64,
    /// Of those, covered by the blocklist (single entries or ranges).
    pub blocked: u64,
    /// `blocked / offenders` (1 when nothing offends).
    pub coverage: f64,
    /// Clients seen (the guardrail's and the ranges' denominator).
    pub clients_seen: u64,
    /// Blocklist entries that are range bans.
    pub range_entries: u64,
    /// Blocklist entries that are single keys.
    pub single_entries: u64,
    /// Active bans left out of the blocklist, by reason.
    pub held_back: std::collections::BTreeMap<String, u64>,
    /// Active bans per rule (of their latest offence), most first.
    pub by_rule: Vec<Counted>,
    /// Active bans per country (WAF logs), most first; at most 20 and `other`.
    pub by_country: Vec<Counted>,
}

/// `dropped[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DroppedEntry {
    /// CIDR.
    pub cidr: String,
    /// Its rule.
    pub rule: String,
    /// `allowlisted`, `guardrail`, `max_new_per_run` or `max_entries`.
    pub reason: String,
    /// Severity.
    pub severity: f64,
    /// Ban end.
    pub until: String,
}

/// `timeline`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// `[minute start ms, requests]`, ascending.
    pub requests_per_minute: Vec<(i64, u64)>,
    /// `[ban start ms, cidr]`, ascending.
    pub ban_starts: Vec<(i64, String)>,
    /// `[minute start ms, bans started]`, ascending: the attack's arrival.
    pub bans_per_minute: Vec<(i64, u64)>,
}
