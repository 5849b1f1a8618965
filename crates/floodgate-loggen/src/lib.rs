//! floodgate-loggen: a deterministic generator of realistic AWS WAF, CloudFront and ALB access
//! logs with labelled attack scenarios.
//!
//! It exists so that floodgate's parsers, engine, benchmarks and end-to-end tests all run on
//! the same kind of data AWS writes to S3, with a ground truth (`manifest.json`) of which
//! clients must be banned under floodgate's default rules. Same [`Options`] → same bytes.
//!
//! ```no_run
//! let manifest = floodgate_loggen::generate(&Default::default(), std::path::Path::new("out"))?;
//! assert!(manifest.totals.records > 0);
//! # Ok::<(), std::io::Error>(())
//! ```

mod catalog;
mod formats;
mod generate;
mod manifest;
mod model;
mod scenarios;
mod text;
pub mod time;
mod truth;
mod writer;

pub use generate::generate;
pub use manifest::{
    ByFormat, ClientEntry, FileEntry, Manifest, NetworkEntry, ScenarioEntry, Totals,
};

use serde::{Deserialize, Serialize};

/// A log format floodgate reads; each generated file has exactly one. Named in the manifest
/// and on the CLI by [`Format::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// AWS WAF JSON lines delivered by Kinesis Data Firehose.
    Waf,
    /// CloudFront standard (legacy) access logs, W3C extended format.
    Cloudfront,
    /// Application Load Balancer access logs.
    Alb,
    /// CloudFront standard logging v2, JSON output: one object per request with W3C field
    /// names as keys, string values, a selection of fields (the one AWS offers by default for
    /// new distributions' CloudWatch Logs and Firehose delivery).
    CloudfrontJson,
    /// CloudFront standard logging v2, W3C output to S3 with a user-chosen subset of fields in
    /// a user-chosen order: `timestamp(ms)` (or `timestamp`, or `date` and `time`) instead of
    /// the legacy fixed 33 columns, each file saying its layout in `#Fields`.
    CloudfrontW3c,
}

impl Format {
    /// All formats in manifest order.
    pub const ALL: [Format; 5] = [
        Format::Waf,
        Format::Cloudfront,
        Format::Alb,
        Format::CloudfrontJson,
        Format::CloudfrontW3c,
    ];

    /// The formats written when none are chosen: the three every deployment has met; the
    /// CloudFront v2 outputs are opt-in so the committed samples and benchmark corpora stay
    /// byte-identical for the same options.
    pub const DEFAULT: [Format; 3] = [Format::Waf, Format::Cloudfront, Format::Alb];

    /// The name used on the CLI and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Format::Waf => "waf",
            Format::Cloudfront => "cloudfront",
            Format::Alb => "alb",
            Format::CloudfrontJson => "cloudfront-json",
            Format::CloudfrontW3c => "cloudfront-w3c",
        }
    }

    /// CloudFront in any of its outputs: the traffic CloudFront would log (edges, `000`
    /// statuses, percent-encoded fields, hourly files).
    pub fn is_cloudfront(self) -> bool {
        matches!(
            self,
            Format::Cloudfront | Format::CloudfrontJson | Format::CloudfrontW3c
        )
    }

    /// Parses a CLI/manifest name.
    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == s)
    }
}

/// Which actors to generate: `Mixed` is all of them, the others are one actor plus background.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Every actor below together.
    Mixed,
    /// Ordinary visitors only (no one to ban).
    Background,
    /// A flood from a few addresses.
    Flood,
    /// A slow 404 scanner.
    Scanner,
    /// Password guessing on login paths.
    Bruteforce,
    /// An IPv6 attacker rotating addresses inside one /64.
    Ipv6Rotation,
    /// An office behind one NAT address: many people, one busy address, not an attacker.
    NatOffice,
    /// An allowlisted health checker.
    Healthcheck,
    /// A distributed flood (see [`BotnetOptions`]) among a crowd of ordinary clients; not part
    /// of `Mixed` (it is big).
    Botnet,
}

impl Scenario {
    /// Every scenario, in CLI help order.
    pub const ALL: [Scenario; 9] = [
        Scenario::Mixed,
        Scenario::Background,
        Scenario::Flood,
        Scenario::Scanner,
        Scenario::Bruteforce,
        Scenario::Ipv6Rotation,
        Scenario::NatOffice,
        Scenario::Healthcheck,
        Scenario::Botnet,
    ];

    /// The CLI/manifest name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Mixed => "mixed",
            Scenario::Background => "background",
            Scenario::Flood => "flood",
            Scenario::Scanner => "scanner",
            Scenario::Bruteforce => "bruteforce",
            Scenario::Ipv6Rotation => "ipv6-rotation",
            Scenario::NatOffice => "nat-office",
            Scenario::Healthcheck => "healthcheck",
            Scenario::Botnet => "botnet",
        }
    }

    /// Parses a CLI name.
    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// Gzip effort: `Fast` for big benchmark corpora, `Default` for committed samples, `None` to
/// write plain text (file names then lose their `.gz` suffix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Fastest gzip level (benchmark corpora).
    Fast,
    /// The default gzip level (committed samples).
    Default,
    /// Plain text.
    None,
}

/// Everything that determines the output; equal options give byte-identical files.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which actors to include.
    pub scenario: Scenario,
    /// Formats to write; actors whose natural format is missing move to the first one listed.
    pub formats: Vec<Format>,
    /// Seed of every random choice.
    pub seed: u64,
    /// First event time, ms since the Unix epoch.
    pub start_ms: i64,
    /// Minimum covered time span in ms.
    pub duration_ms: i64,
    /// Target total uncompressed bytes: background traffic (and time) is extended until reached.
    pub size: Option<u64>,
    /// Number of distinct background users.
    pub users: u32,
    /// Inject a handful of malformed lines (recorded per file in the manifest).
    pub bad_lines: bool,
    /// Gzip level.
    pub compression: Compression,
    /// Limit of the `flood` rule the ground truth assumes (floodgate's default: 600 per 5 min).
    pub flood_limit: u32,
    /// Size and shape of the `botnet` scenario.
    pub botnet: BotnetOptions,
}

/// The `botnet` scenario: who attacks, how hard, among how many ordinary clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotnetOptions {
    /// Attacking addresses (keys): half packed 200 to a rented /24 (a few in rented IPv6 /48s),
    /// half scattered one per /24, 9 of them inside 3 carrier-NAT /24s among 450 ordinary clients.
    pub attackers: u32,
    /// Ordinary clients with 1-6 requests each over the whole run.
    pub ordinary: u32,
    /// Requests each attacker sends in its burst.
    pub requests: u32,
    /// Length of each attacker's burst, ms.
    pub burst_ms: i64,
    /// When the attack starts, ms after the start of the run.
    pub attack_start_ms: i64,
}

impl Default for BotnetOptions {
    /// The flood of the distributed-floods issue: 40,000 attackers sending 60 requests in
    /// 5 minutes from the 30th minute, among 200,000 ordinary clients (with a flood limit of
    /// 50 per 5 minutes, each attacker is 1.2× over it).
    fn default() -> BotnetOptions {
        BotnetOptions {
            attackers: 40_000,
            ordinary: 200_000,
            requests: 60,
            burst_ms: 5 * time::MINUTE,
            attack_start_ms: 30 * time::MINUTE,
        }
    }
}

/// 2026-11-02T08:00:00Z, the default start.
pub const DEFAULT_START_MS: i64 = 1_793_606_400_000;

impl Default for Options {
    /// Sample-sized: 2 hours of mixed traffic from a couple of thousand users.
    fn default() -> Options {
        Options {
            scenario: Scenario::Mixed,
            formats: Format::DEFAULT.to_vec(),
            seed: 42,
            start_ms: DEFAULT_START_MS,
            duration_ms: 2 * time::HOUR,
            size: None,
            users: 1800,
            bad_lines: false,
            compression: Compression::Default,
            flood_limit: 600,
            botnet: BotnetOptions::default(),
        }
    }
}
