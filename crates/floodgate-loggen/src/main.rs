//! `floodgate-loggen`: command-line front end of the log generator.

use clap::Parser;
use floodgate_loggen::{
    generate, time, BotnetOptions, Compression, DecoysOptions, FleetOptions, Format, Options,
    Scenario,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Generate realistic, deterministic AWS WAF / CloudFront / ALB logs with labelled attack
/// scenarios and a ground-truth manifest.json.
#[derive(Parser, Debug)]
#[command(name = "floodgate-loggen", version)]
struct Cli {
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// mixed | background | flood | scanner | bruteforce | ipv6-rotation | nat-office | healthcheck | botnet | decoys | residential-fleet
    #[arg(long, default_value = "mixed", value_parser = parse_scenario)]
    scenario: Scenario,
    /// Comma-separated formats: waf, cloudfront, alb, and the CloudFront standard logging v2
    /// outputs cloudfront-json and cloudfront-w3c.
    #[arg(long, default_value = "waf,cloudfront,alb", value_parser = parse_formats)]
    formats: Formats,
    /// Seed of every random choice; same arguments and seed give identical bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First event time (RFC 3339).
    #[arg(long, default_value = "2026-11-02T08:00:00Z", value_parser = time::parse_rfc3339)]
    start: i64,
    /// Covered time span, e.g. 2h, 90m, 1h30m.
    #[arg(long, default_value = "2h", value_parser = time::parse_duration)]
    duration: i64,
    /// Target total uncompressed size, e.g. 300MB, 2GB: extends background traffic and time.
    #[arg(long, value_parser = time::parse_size)]
    size: Option<u64>,
    /// Number of distinct background users.
    #[arg(long, default_value_t = Options::default().users)]
    users: u32,
    /// Inject a few malformed lines (listed per file in the manifest).
    #[arg(long)]
    bad_lines: bool,
    /// Gzip effort: fast | default | none (plain text, no .gz suffix).
    #[arg(long, default_value = "default", value_parser = parse_compression)]
    compression: Compression,
    /// Limit of the `flood` rule the manifest's ground truth assumes (per 5 minutes).
    #[arg(long, default_value_t = Options::default().flood_limit)]
    flood_limit: u32,
    /// botnet: attacking addresses.
    #[arg(long, default_value_t = BotnetOptions::default().attackers)]
    botnet_attackers: u32,
    /// botnet: ordinary clients (1-6 requests each).
    #[arg(long, default_value_t = BotnetOptions::default().ordinary)]
    botnet_ordinary: u32,
    /// botnet: requests each attacker sends in its 5-minute burst.
    #[arg(long, default_value_t = BotnetOptions::default().requests)]
    botnet_requests: u32,
    /// decoys: real credential stuffers (one IPv4 address per /24).
    #[arg(long, default_value_t = DecoysOptions::default().stuffers)]
    decoys_stuffers: u32,
    /// decoys: decoy /64s of one IPv6 /48, 21 POST /login each.
    #[arg(long, default_value_t = DecoysOptions::default().decoys)]
    decoys_count: u32,
    /// decoys: quiet /64s of the decoys' /48, one GET each.
    #[arg(long, default_value_t = DecoysOptions::default().quiet)]
    decoys_quiet: u32,
    /// decoys: aged decoy /64s of a second /48 (one GET long before the attack, then 21 POSTs).
    #[arg(long, default_value_t = DecoysOptions::default().aged)]
    decoys_aged: u32,
    /// residential-fleet: distinct addresses (one or two requests each).
    #[arg(long, default_value_t = FleetOptions::default().addresses)]
    fleet_addresses: u32,
    /// residential-fleet: when it starts, after the start of the run (e.g. 70m).
    #[arg(long, default_value = "70m", value_parser = time::parse_duration)]
    fleet_start: i64,
    /// residential-fleet: percent of its addresses indistinguishable from ordinary browsers.
    #[arg(long, default_value_t = FleetOptions::default().ordinary_pct)]
    fleet_ordinary_pct: u8,
}

#[derive(Clone, Debug)]
struct Formats(Vec<Format>);

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    Scenario::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        format!(
            "unknown scenario {s:?} (expected one of {})",
            names.join(", ")
        )
    })
}

fn parse_formats(s: &str) -> Result<Formats, String> {
    let mut v = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let f = Format::parse(part).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format {part:?} (expected {})", names.join(", "))
        })?;
        if !v.contains(&f) {
            v.push(f);
        }
    }
    if v.is_empty() {
        return Err("at least one format is required".into());
    }
    Ok(Formats(v))
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    match s {
        "fast" => Ok(Compression::Fast),
        "default" => Ok(Compression::Default),
        "none" => Ok(Compression::None),
        _ => Err(format!(
            "unknown compression {s:?} (expected fast, default, none)"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = Options {
        scenario: cli.scenario,
        formats: cli.formats.0,
        seed: cli.seed,
        start_ms: cli.start,
        duration_ms: cli.duration,
        size: cli.size,
        users: cli.users,
        bad_lines: cli.bad_lines,
        compression: cli.compression,
        flood_limit: cli.flood_limit,
        botnet: BotnetOptions {
            attackers: cli.botnet_attackers,
            ordinary: cli.botnet_ordinary,
            requests: cli.botnet_requests,
            ..BotnetOptions::default()
        },
        decoys: DecoysOptions {
            stuffers: cli.decoys_stuffers,
            decoys: cli.decoys_count,
            quiet: cli.decoys_quiet,
            aged: cli.decoys_aged,
            ..DecoysOptions::default()
        },
        fleet: FleetOptions {
            addresses: cli.fleet_addresses,
            start_ms: cli.fleet_start,
            ordinary_pct: cli.fleet_ordinary_pct.min(100),
            ..FleetOptions::default()
        },
    };
    let started = std::time::Instant::now();
    match generate(&opts, &cli.out) {
        Ok(m) => {
            let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
            let secs = started.elapsed().as_secs_f64();
            let banned: Vec<&str> = m
                .scenarios
                .iter()
                .filter(|s| s.expect_ban)
                .flat_map(|s| s.ban_keys.iter().map(String::as_str))
                .collect();
            eprintln!(
                "wrote {} files, {} records ({} waf, {} cloudfront, {} alb, {} cloudfront v2), {:.1} MB uncompressed in {:.2}s ({:.0} MB/s); {} → {}; expected bans: {}",
                m.files.len(),
                m.totals.records,
                m.totals.by_format.waf,
                m.totals.by_format.cloudfront,
                m.totals.by_format.alb,
                m.totals.by_format.cloudfront_json + m.totals.by_format.cloudfront_w3c,
                bytes as f64 / 1e6,
                secs,
                bytes as f64 / 1e6 / secs.max(1e-9),
                m.start,
                m.end,
                match banned.len() {
                    0 => "none".to_string(),
                    n @ 1..=20 => format!("{n}: {}", banned.join(", ")),
                    n => format!("{n} keys ({}, …; see manifest.json)", banned[..5].join(", ")),
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "floodgate-loggen: cannot write to {}: {e}",
                cli.out.display()
            );
            ExitCode::FAILURE
        }
    }
}
