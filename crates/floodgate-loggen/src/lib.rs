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
    ByFormat, ClientEntry, FileEntry, FleetEntry, Manifest, NetworkEntry, ScenarioEntry, Totals,
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
    /// Credential stuffers with decoys shaped by someone who has read floodgate's docs (see
    /// [`DecoysOptions`]), on top of background traffic that starts before the attack; not
    /// part of `Mixed`.
    Decoys,
    /// A headless fleet on residential proxies (see [`FleetOptions`]): thousands of addresses
    /// with one or two requests each on `/search`, after an hour of ordinary history; no
    /// address is over any limit. Not part of `Mixed`.
    ResidentialFleet,
}

impl Scenario {
    /// Every scenario, in CLI help order.
    pub const ALL: [Scenario; 11] = [
        Scenario::Mixed,
        Scenario::Background,
        Scenario::Flood,
        Scenario::Scanner,
        Scenario::Bruteforce,
        Scenario::Ipv6Rotation,
        Scenario::NatOffice,
        Scenario::Healthcheck,
        Scenario::Botnet,
        Scenario::Decoys,
        Scenario::ResidentialFleet,
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
            Scenario::Decoys => "decoys",
            Scenario::ResidentialFleet => "residential-fleet",
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
    /// Size and shape of the `decoys` scenario.
    pub decoys: DecoysOptions,
    /// Size and shape of the `residential-fleet` scenario.
    pub fleet: FleetOptions,
}

/// The `residential-fleet` scenario: the flood of issue #24 that no per-address limit sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetOptions {
    /// Distinct addresses (one per /24 or /64, none an ordinary client's network); each sends
    /// one request, about a third two.
    pub addresses: u32,
    /// When the fleet starts, ms after the start of the run (earlier when the run is too short
    /// to hold the whole attack after it).
    pub start_ms: i64,
    /// How long it lasts, ms.
    pub length_ms: i64,
    /// Percent of the fleet's addresses that send the background's own browser agents and
    /// fingerprints (indistinguishable from ordinary visitors); the rest are headless, with
    /// fingerprints only the fleet has.
    pub ordinary_pct: u8,
}

impl Default for FleetOptions {
    /// The incident's shape: 12,000 addresses in 7 minutes from the 70th minute (after an
    /// hour of ordinary history), a quarter of them looking like ordinary browsers.
    fn default() -> FleetOptions {
        FleetOptions {
            addresses: 12_000,
            start_ms: 70 * time::MINUTE,
            length_ms: 7 * time::MINUTE,
            ordinary_pct: 25,
        }
    }
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

/// The `decoys` scenario: an attacker who has read floodgate's docs hides real credential
/// stuffers behind decoys meant to make the attack look like a broken rule, so that the
/// guardrail holds every ban back.
///
/// All of it happens over a background of ordinary users active from the start of the run
/// (the site's audience, with history). Every actor's requests start at a random time in the
/// 10 minutes from `attack_start_ms`; each burst lasts at most 4 minutes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecoysOptions {
    /// Real credential stuffers: one IPv4 address per /24 (no ordinary client in it), each
    /// sending 24-28 `POST /login` within 4 minutes; 30 of them spell the path otherwise
    /// (`/Login`, `//login`, `/login;x`, `/%6Cogin`, `/login/`, `/./login`).
    pub stuffers: u32,
    /// Decoy /64s of one IPv6 /48, each sending 21 `POST /login` (just over the `login` rule).
    pub decoys: u32,
    /// Quiet /64s of the same /48, one `GET` each, keeping the /48's share of offenders under
    /// `ranges.min_share` (3,000 of 3,400 is 0.88).
    pub quiet: u32,
    /// Aged decoys: /64s of a second /48 that send one `GET` between the start of the run and
    /// 20 minutes before the attack (twice the guardrail's `history`), then 21 `POST /login`.
    pub aged: u32,
    /// When the attack starts, ms after the start of the run (half the run if that is later:
    /// a short run still has history before its attack).
    pub attack_start_ms: i64,
}

impl Default for DecoysOptions {
    /// The decoys of the guardrail issue: 150 stuffers, 3,000 decoy /64s and 400 quiet ones in
    /// one /48, 300 aged decoys in another, from the 60th minute (with the default 2-hour run,
    /// every 1-hour ban is still active at the end of the logs).
    fn default() -> DecoysOptions {
        DecoysOptions {
            stuffers: 150,
            decoys: 3_000,
            quiet: 400,
            aged: 300,
            attack_start_ms: 60 * time::MINUTE,
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
            decoys: DecoysOptions::default(),
            fleet: FleetOptions::default(),
        }
    }
}
