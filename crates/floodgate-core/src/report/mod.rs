//! The report: one serialisable model, rendered as JSON, Markdown and HTML.
//!
//! [`Report::build`] gathers everything a reviewer needs from the configuration, the state
//! (its last run) and the decision. The JSON form is the contract (schema in
//! docs/report-schema.md, versioned by [`SCHEMA`]); Markdown ([`markdown`]) and HTML ([`html`])
//! render the same model. Everything that came from logs is attacker-controlled and is escaped
//! by the renderers.

mod csp;
pub mod html;
pub mod markdown;
mod svg;
pub mod text;

use crate::config::Config;
use crate::decision::Decision;
use crate::ingest::FileSummary;
use crate::reject::RejectStats;
use crate::state::State;
use crate::timefmt::format_rfc3339_ms;
use serde::{Deserialize, Serialize};

/// Schema identifier of `report.json`. Bumped on any incompatible change.
pub const SCHEMA: &str = "floodgate-report/1";

/// How many top paths and user agents a ban shows.
pub const TOP_N: usize = 5;

/// `report.json`. Field meanings are documented in docs/report-schema.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
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
    /// The blocklist.
    pub blocklist: crate::decision::Blocklist,
    /// Active bans left out, and why.
    pub dropped: Vec<DroppedEntry>,
    /// Versus the previous decision.
    pub changes: crate::decision::Changes,
    /// Requests per minute and ban starts, for charts.
    pub timeline: Timeline,
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
    /// The value (decoded for display, still unescaped).
    pub value: String,
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
}

/// `dropped[]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DroppedEntry {
    /// CIDR.
    pub cidr: String,
    /// Its rule.
    pub rule: String,
    /// `max_new_per_run` or `max_entries`.
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
}

fn opt_time(ms: Option<i64>) -> Option<String> {
    ms.map(format_rfc3339_ms)
}

/// `300000` → `5m`.
pub fn human_duration(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64))
        .to_string()
        .replace(' ', "")
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
        let bans: Vec<BanEntry> = decision
            .bans
            .iter()
            .map(|b| {
                let profile = state.profiles.get(&b.key);
                let top = |f: &dyn Fn(&crate::tally::Profile) -> Vec<(String, u64)>| {
                    profile
                        .map(|p| {
                            f(p).into_iter()
                                .map(|(value, count)| Counted { value, count })
                                .collect()
                        })
                        .unwrap_or_default()
                };
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
                    top_paths: top(&|p| p.paths.top(TOP_N)),
                    top_user_agents: top(&|p| p.user_agents.top(TOP_N)),
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
            },
        }
    }

    /// `report.json`, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises") + "\n"
    }

    /// The files of a run, `(name, content type, text)`: the same set for the CLI's `--out`
    /// and the Lambda's reports prefix.
    pub fn files(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("report.json", "application/json", self.to_json()),
            (
                "report.md",
                "text/markdown; charset=utf-8",
                markdown::render(self),
            ),
            (
                "report.html",
                "text/html; charset=utf-8",
                html::render(self),
            ),
            (
                "blocklist-ipv4.txt",
                "text/plain; charset=utf-8",
                Report::blocklist_text(&self.blocklist.ipv4),
            ),
            (
                "blocklist-ipv6.txt",
                "text/plain; charset=utf-8",
                Report::blocklist_text(&self.blocklist.ipv6),
            ),
        ]
    }

    /// A blocklist file: one CIDR a line, sorted, newline-terminated (empty when none).
    pub fn blocklist_text(entries: &[String]) -> String {
        entries.iter().map(|e| format!("{e}\n")).collect()
    }
}
