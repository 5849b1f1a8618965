//! `floodgate compare`: try a rule change on past logs. The same logs are decided with the
//! current configuration and with the proposed one (each in memory, from an empty state, with
//! the one engine), and the blocklist entries the change would add and remove are printed: a
//! diff, not two reports to compare by eye.

use crate::analyze::read_paths;
use crate::{load_config, Failure};
use clap::Args;
use floodgate_core::config::Config;
use floodgate_core::decision::{Ban, Decision};
use floodgate_core::engine;
use floodgate_core::report::text::int;
use floodgate_core::state::State;
use floodgate_core::timefmt::format_rfc3339_ms;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `floodgate compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// Log files or folders (as for `analyze`).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The proposed configuration.
    #[arg(long)]
    config: PathBuf,
    /// The current configuration (default: the built-in one).
    #[arg(long)]
    against: Option<PathBuf>,
    /// Files read in parallel; default: all cores.
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Print JSON: {"current", "proposed": {"config", "entries"}, "added": [...], "removed": [...]}.
    #[arg(long)]
    json: bool,
}

fn decide(config: &Config, paths: &[PathBuf], jobs: Option<usize>) -> Result<Decision, Failure> {
    let mut state = State::default();
    let input = read_paths(config, &state, paths, jobs, true)?;
    engine::run(config, &mut state, input, None, true).map_err(Failure::usage)
}

/// The ban behind a blocklist entry (a single key, or the most severe member of a range).
fn ban_of<'a>(d: &'a Decision, entry: &str) -> Option<&'a Ban> {
    let net: ipnet::IpNet = entry.parse().ok()?;
    d.bans
        .iter()
        .filter(|b| b.active && net.contains(&b.cidr))
        .min_by(|a, b| floodgate_core::decision::by_severity(a, b))
}

fn entries(d: &Decision) -> BTreeSet<&String> {
    d.blocklist.all().collect()
}

fn describe(d: &Decision, entry: &str) -> serde_json::Value {
    let members = entry.parse::<ipnet::IpNet>().map_or(0, |n| {
        d.bans
            .iter()
            .filter(|b| b.active && n.contains(&b.cidr))
            .count()
    });
    match ban_of(d, entry) {
        Some(b) => json!({
            "cidr": entry,
            "rule": b.rule,
            "peak": b.peak,
            "limit": b.peak_limit,
            "until": format_rfc3339_ms(b.until_ms),
            "offenders": members,
        }),
        None => json!({ "cidr": entry }),
    }
}

fn name(p: Option<&Path>) -> String {
    p.map_or("the built-in configuration".to_string(), |p| {
        p.display().to_string()
    })
}

/// Run `floodgate compare`.
pub fn run(args: CompareArgs) -> Result<u8, Failure> {
    let current = load_config(args.against.as_deref())?;
    let proposed = load_config(Some(&args.config))?;
    let before = decide(&current, &args.paths, args.jobs)?;
    let after = decide(&proposed, &args.paths, args.jobs)?;
    let (b, a) = (entries(&before), entries(&after));
    let added: Vec<serde_json::Value> = a.difference(&b).map(|e| describe(&after, e)).collect();
    let removed: Vec<serde_json::Value> = b.difference(&a).map(|e| describe(&before, e)).collect();
    if args.json {
        let out = json!({
            "current": { "config": name(args.against.as_deref()), "entries": b.len() },
            "proposed": { "config": name(Some(&args.config)), "entries": a.len() },
            "added": added,
            "removed": removed,
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    outln!(
        "current ({}): {} entries; proposed ({}): {} entries; {} added, {} removed, {} unchanged",
        name(args.against.as_deref()),
        int(b.len() as u64),
        args.config.display(),
        int(a.len() as u64),
        int(added.len() as u64),
        int(removed.len() as u64),
        int(a.intersection(&b).count() as u64)
    );
    for (sign, list) in [("+", &added), ("-", &removed)] {
        for e in list {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
            let n = |k: &str| e[k].as_u64().unwrap_or(0);
            if e.get("rule").is_some() {
                outln!(
                    "{sign} {:<24} {:<8} {:>13} {:>6} offender(s)  until {}",
                    s("cidr"),
                    s("rule"),
                    format!("{}/{}", int(n("peak")), int(n("limit"))),
                    int(n("offenders")),
                    s("until")
                );
            } else {
                outln!("{sign} {}", s("cidr"));
            }
        }
    }
    Ok(0)
}
