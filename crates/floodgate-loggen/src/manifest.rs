//! `manifest.json`: what was generated and the ground truth other crates' tests check against.

use crate::Format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole manifest; written to `out/manifest.json` and returned by [`crate::generate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `floodgate-loggen <version>`.
    pub generator: String,
    pub seed: u64,
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
    pub totals: Totals,
}

/// One generated log object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the output folder, with forward slashes.
    pub path: String,
    pub format: Format,
    /// Valid records (excludes headers and bad lines).
    pub records: u64,
    /// All lines, including CloudFront `#` headers and bad lines.
    pub lines: u64,
    /// Uncompressed bytes.
    pub bytes: u64,
    /// Gzip members (0 when written uncompressed).
    pub gzip_members: u64,
    pub first_time_ms: i64,
    pub last_time_ms: i64,
    /// The object's key time is later than its records (delivered late / out of order).
    pub late: bool,
    /// Injected malformed lines by reason (`bad_json`, `bad_ip`, `bad_time`, `invalid_utf8`).
    pub bad_lines: BTreeMap<String, u64>,
}

/// One client IP and whether the default rules must ban it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientEntry {
    pub ip: String,
    pub scenario: String,
    pub format: Format,
    pub requests: u64,
    pub expect_ban: bool,
    /// `/32` or `/64` key; null for allowlisted clients.
    pub ban_key: Option<String>,
    /// The default rule that fires first for this client's key; null when none.
    pub rule: Option<String>,
}

/// One actor of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioEntry {
    pub name: String,
    pub description: String,
    pub clients: u64,
    pub requests: u64,
    pub expect_ban: bool,
    pub ban_keys: Vec<String>,
}

/// Record counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub records: u64,
    pub by_format: ByFormat,
}

/// Records per format.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ByFormat {
    pub waf: u64,
    pub cloudfront: u64,
    pub alb: u64,
}

impl ByFormat {
    /// Mutable counter of one format.
    pub fn get_mut(&mut self, f: Format) -> &mut u64 {
        match f {
            Format::Waf => &mut self.waf,
            Format::Cloudfront => &mut self.cloudfront,
            Format::Alb => &mut self.alb,
        }
    }
}
