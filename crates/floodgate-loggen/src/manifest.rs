//! `manifest.json`: what was generated and the ground truth other crates' tests check against.

use crate::Format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole manifest; written to `out/manifest.json` and returned by [`crate::generate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `floodgate-loggen <version>`.
    pub generator: String,
    /// The seed of every random choice.
    pub seed: u64,
    /// The scenario's CLI name.
    pub scenario: String,
    /// RFC 3339 start of the covered time span.
    pub start: String,
    /// RFC 3339 end (exclusive) of the covered time span.
    pub end: String,
    /// Every file, sorted by path.
    pub files: Vec<FileEntry>,
    /// Every client IP that appears in a valid record, sorted by IP text.
    pub clients: Vec<ClientEntry>,
    /// One entry per actor present.
    pub scenarios: Vec<ScenarioEntry>,
    /// Networks with a known truth for range bans (the `botnet` and `decoys` scenarios), sorted
    /// by CIDR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<NetworkEntry>,
    /// The residential fleet's truth (the `residential-fleet` scenario only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetEntry>,
    /// Record counts.
    pub totals: Totals,
}

/// What a detector of floods that no single address makes must find in a
/// `residential-fleet` run, computed from the requests written (not from the intent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FleetEntry {
    /// RFC 3339 time of the fleet's first request.
    pub start: String,
    /// RFC 3339 time of its last request.
    pub end: String,
    /// The path it hits (one; several would be listed space-separated).
    pub path: String,
    /// Every one of its requests had a query string no other request had.
    pub distinct_queries: bool,
    /// Its addresses.
    pub addresses: u64,
    /// Its requests (every query string distinct).
    pub requests: u64,
    /// Most requests any one of its addresses sent.
    pub max_requests_per_address: u64,
    /// JA3 fingerprints that only the fleet sent (blockable without collateral), sorted.
    pub ja3_only_fleet: Vec<String>,
    /// JA4 fingerprints that only the fleet sent, sorted.
    pub ja4_only_fleet: Vec<String>,
    /// User agents that only the fleet sent (older majors, HeadlessChrome), sorted.
    pub user_agents_only_fleet: Vec<String>,
    /// Share of its requests with a fingerprint and user agent ordinary clients also send:
    /// what no fingerprint block can stop (a challenge of the path can).
    pub ordinary_share: f64,
}

/// One generated log object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the output folder, with forward slashes.
    pub path: String,
    /// The file's format.
    pub format: Format,
    /// Valid records (excludes headers and bad lines).
    pub records: u64,
    /// All lines, including CloudFront `#` headers and bad lines.
    pub lines: u64,
    /// Uncompressed bytes.
    pub bytes: u64,
    /// Gzip members (0 when written uncompressed).
    pub gzip_members: u64,
    /// Earliest record time, ms.
    pub first_time_ms: i64,
    /// Latest record time, ms.
    pub last_time_ms: i64,
    /// The object's key time is later than its records (delivered late / out of order).
    pub late: bool,
    /// Injected malformed lines by reason (`bad_json`, `bad_ip`, `bad_time`, `invalid_utf8`).
    pub bad_lines: BTreeMap<String, u64>,
}

/// One client IP and whether the default rules must ban it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientEntry {
    /// The address as written in the logs.
    pub ip: String,
    /// The actor it belongs to.
    pub scenario: String,
    /// The format its requests were written in.
    pub format: Format,
    /// Valid records of this client.
    pub requests: u64,
    /// Whether the default rules must ban its key.
    pub expect_ban: bool,
    /// `/32` or `/64` key; null for allowlisted clients.
    pub ban_key: Option<String>,
    /// The default rule that fires first for this client's key; null when none.
    pub rule: Option<String>,
}

/// One actor of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioEntry {
    /// The actor's name.
    pub name: String,
    /// What it does, in a sentence.
    pub description: String,
    /// Its client addresses.
    pub clients: u64,
    /// Its valid records.
    pub requests: u64,
    /// Whether its keys must be banned.
    pub expect_ban: bool,
    /// The keys the default rules must ban.
    pub ban_keys: Vec<String>,
}

/// A network and whether it must be banned whole.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkEntry {
    /// The network (`/24` or `/48`).
    pub cidr: String,
    /// `rented` (only attackers), `carrier-nat` (a few attackers among ordinary people),
    /// `decoy` (decoy /64s and quiet ones of one /48) or `aged-decoy` (decoys first seen
    /// long before the attack).
    pub kind: String,
    /// Attacking addresses in it.
    pub attackers: u64,
    /// Ordinary clients in it.
    pub ordinary: u64,
    /// Keys the attacker holds in it that stay under every limit, to keep its share of
    /// offenders down (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub quiet: u64,
    /// Whether floodgate's default `[ban.ranges]` must ban it as one entry.
    pub expect_range_ban: bool,
}

/// Record counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Valid records in all files.
    pub records: u64,
    /// Valid records per format.
    pub by_format: ByFormat,
}

/// Records per format.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ByFormat {
    /// WAF records.
    pub waf: u64,
    /// CloudFront records.
    pub cloudfront: u64,
    /// ALB records.
    pub alb: u64,
    /// CloudFront v2 JSON records (absent from manifests without them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cloudfront_json: u64,
    /// CloudFront v2 W3C-subset records (absent from manifests without them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cloudfront_w3c: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ByFormat {
    /// Mutable counter of one format.
    pub fn get_mut(&mut self, f: Format) -> &mut u64 {
        match f {
            Format::Waf => &mut self.waf,
            Format::Cloudfront => &mut self.cloudfront,
            Format::Alb => &mut self.alb,
            Format::CloudfrontJson => &mut self.cloudfront_json,
            Format::CloudfrontW3c => &mut self.cloudfront_w3c,
        }
    }

    /// Records of every format.
    pub fn total(&self) -> u64 {
        self.waf + self.cloudfront + self.alb + self.cloudfront_json + self.cloudfront_w3c
    }
}
