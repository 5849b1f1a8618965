//! The operator's console: `bans` (what is banned and why), `ban` and `unban` (steer it now),
//! `completions` and `man` (the shell habits). Manual decisions live in the state
//! (`floodgate_core::manual`), so the next `analyze`, `sync` or Lambda run applies them exactly
//! as these commands show.

use crate::analyze::ban_table;
use crate::state_file::{load_any, save_any, StateFile};
use crate::{config_for_state, parse_now, wall_clock_ms, Failure};
use clap::{Args, CommandFactory};
use floodgate_core::config::{parse_duration, Config};
use floodgate_core::engine;
use floodgate_core::manual::{ManualBan, Stop, Unban};
use floodgate_core::report::Report;
use floodgate_core::state::State;
use floodgate_core::timefmt::format_rfc3339_ms;
use ipnet::IpNet;
use serde_json::json;
use std::path::{Path, PathBuf};

/// `floodgate bans`.
#[derive(Args)]
pub struct BansArgs {
    /// State file or `s3://bucket/key`.
    #[arg(long)]
    state: PathBuf,
    /// Configuration (default: the one the state records).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also the bans that ended but are still within `ban.memory`.
    #[arg(long)]
    all: bool,
    /// Print JSON (schema: docs/report-schema.md, "floodgate bans --json").
    #[arg(long)]
    json: bool,
    /// Decision time (RFC 3339); default: the time of the state's last run.
    #[arg(long)]
    now: Option<String>,
}

/// `floodgate ban` and `floodgate unban`.
#[derive(Args)]
pub struct ManualArgs {
    /// An address (banned as its key: /32, /64 by default) or a CIDR (banned as written).
    target: String,
    /// State file or `s3://bucket/key`.
    #[arg(long)]
    state: PathBuf,
    /// How long (`ban` only): "90m", "12h", "7d".
    #[arg(long = "for", value_name = "DURATION")]
    duration: Option<String>,
    /// Why, for the audit trail (`floodgate bans` shows it).
    #[arg(long, default_value = "")]
    reason: String,
    /// Configuration (default: the one the state records).
    #[arg(long)]
    config: Option<PathBuf>,
    /// When (RFC 3339); default: now.
    #[arg(long)]
    now: Option<String>,
}

fn target(s: &str, config: &Config) -> Result<IpNet, Failure> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    let ip: std::net::IpAddr = s.parse().map_err(|_| {
        Failure::usage(anyhow::anyhow!(
            "{s:?} is neither an address nor a CIDR (like 192.0.2.7 or 192.0.2.0/24)"
        ))
    })?;
    let key = floodgate_core::key::Key::from_ip(
        ip.to_canonical(),
        config.ban.ipv4_prefix,
        config.ban.ipv6_prefix,
    );
    Ok(key.cidr(config.ban.ipv4_prefix, config.ban.ipv6_prefix))
}

fn who() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Holds a local state file's lock for a read-change-write (an S3 state is written back
/// conditionally instead).
fn lock(path: &Path) -> Result<Option<std::fs::File>, Failure> {
    if path.to_str().is_some_and(|p| p.starts_with("s3://")) {
        return Ok(None);
    }
    Ok(Some(StateFile::new(path).lock()?))
}

/// `floodgate ban TARGET --for D` / `floodgate unban TARGET`.
pub fn manual(args: ManualArgs, ban: bool) -> Result<u8, Failure> {
    let _lock = lock(&args.state)?;
    let (loaded, version) = load_any(&args.state)?;
    let mut state = match loaded {
        Some(s) => s,
        None if ban => State::default(),
        None => {
            return Err(Failure::usage(anyhow::anyhow!(
                "{}: no such state: nothing is banned there",
                args.state.display()
            )))
        }
    };
    let (config, source) = config_for_state(args.config.as_deref(), &state)?;
    let cidr = target(&args.target, &config)?;
    let now = parse_now(args.now.as_deref())?.unwrap_or_else(wall_clock_ms);
    if ban {
        if let Some(a) = config
            .allow
            .iter()
            .find(|a| a.contains(&cidr) || cidr.contains(*a))
        {
            return Err(Failure::usage(anyhow::anyhow!(
                "{cidr} overlaps the allowlist ({a}): an allowlisted address is never blocked; change [allow] first"
            )));
        }
        let text = args.duration.as_deref().ok_or_else(|| {
            Failure::usage(anyhow::anyhow!("ban needs --for DURATION, like --for 12h"))
        })?;
        let ms = parse_duration("--for", text).map_err(Failure::usage)?;
        if ms <= 0 {
            return Err(Failure::usage(anyhow::anyhow!(
                "--for must be longer than 0"
            )));
        }
        state.manual.ban(ManualBan {
            cidr,
            since_ms: now,
            until_ms: now.saturating_add(ms),
            reason: args.reason.clone(),
            by: who(),
        });
        if state.config.is_none() {
            state.config = Some(source);
        }
        save_any(&args.state, &state, &version)?;
        outln!(
            "banned {cidr} until {} (rule manual){}",
            format_rfc3339_ms(now.saturating_add(ms)),
            next_step()
        );
    } else {
        let before = engine::decide_again(&config, &state, state.last_run.now_ms);
        let removed = state.manual.unban(Unban {
            cidr,
            counted_to_ms: state.watermark_ms.unwrap_or(i64::MIN),
            recorded_ms: now,
            reason: args.reason.clone(),
            by: who(),
        });
        let after = engine::decide_again(&config, &state, state.last_run.now_ms);
        let lifted: Vec<String> = before
            .bans
            .iter()
            .filter(|b| b.active && !after.bans.iter().any(|a| a.active && a.cidr == b.cidr))
            .map(|b| format!("{} ({})", b.cidr, b.rule))
            .collect();
        save_any(&args.state, &state, &version)?;
        if lifted.is_empty() && removed.is_empty() {
            outln!("unbanned {cidr}: no active ban covered it; its requests counted so far will not ban it{}", next_step());
        } else {
            outln!(
                "unbanned {cidr}: lifted {}{}",
                lifted.join(", "),
                next_step()
            );
        }
    }
    Ok(0)
}

fn next_step() -> &'static str {
    ". The IP sets follow at the next Lambda run or `floodgate sync`."
}

/// `floodgate stop` and `floodgate resume`.
#[derive(Args)]
pub struct StopArgs {
    /// State file or `s3://bucket/key`.
    #[arg(long)]
    state: PathBuf,
    /// Why, for the audit trail.
    #[arg(long, default_value = "")]
    reason: String,
}

/// `floodgate stop` (`stop` true) / `floodgate resume`: the emergency stop, in the state.
pub fn stop(args: StopArgs, stop: bool) -> Result<u8, Failure> {
    let _lock = lock(&args.state)?;
    let (loaded, version) = load_any(&args.state)?;
    let mut state = loaded.ok_or_else(|| {
        Failure::usage(anyhow::anyhow!("{}: no such state", args.state.display()))
    })?;
    match (stop, &state.manual.stopped) {
        (true, Some(s)) => {
            outln!(
                "enforcement is already stopped (since {} by {})",
                format_rfc3339_ms(s.since_ms),
                s.by
            );
            return Ok(0);
        }
        (false, None) => {
            outln!("enforcement is not stopped: nothing to resume");
            return Ok(0);
        }
        _ => {}
    }
    state.manual.stopped = stop.then(|| Stop {
        since_ms: wall_clock_ms(),
        reason: args.reason.clone(),
        by: who(),
    });
    save_any(&args.state, &state, &version)?;
    if stop {
        outln!("enforcement stopped: at the next run (the Lambda's next event or schedule, or `floodgate sync`) every entry floodgate added leaves the IP sets; entries others added stay; logs are still counted and bans still decided and reported. `floodgate resume` puts them back.");
    } else {
        outln!("enforcement resumed: the next run puts the blocklist back into the IP sets.");
    }
    Ok(0)
}

/// `floodgate bans`.
pub fn bans(args: BansArgs) -> Result<u8, Failure> {
    let state = crate::state_file::load_existing_any(&args.state)?;
    let (config, _) = config_for_state(args.config.as_deref(), &state)?;
    let now = parse_now(args.now.as_deref())?.unwrap_or(state.last_run.now_ms);
    let d = engine::decide_again(&config, &state, now);
    let shown: Vec<&floodgate_core::decision::Ban> =
        d.bans.iter().filter(|b| args.all || b.active).collect();
    if args.json {
        let report = Report::build(&config, &state, &d);
        let bans: Vec<_> = report
            .bans
            .iter()
            .filter(|b| args.all || b.active)
            .collect();
        let manual = &state.manual;
        let out = json!({
            "now": format_rfc3339_ms(now),
            "bans": bans,
            "blocklist": d.blocklist,
            "stopped": state.manual.stopped.as_ref().map(|s| json!({
                "since": format_rfc3339_ms(s.since_ms),
                "reason": s.reason,
                "by": s.by,
            })),
            "manual": {
                "bans": manual.bans.iter().map(|m| json!({
                    "cidr": m.cidr.to_string(),
                    "since": format_rfc3339_ms(m.since_ms),
                    "until": format_rfc3339_ms(m.until_ms),
                    "reason": m.reason,
                    "by": m.by,
                })).collect::<Vec<_>>(),
                "unbans": manual.unbans.iter().map(|u| json!({
                    "cidr": u.cidr.to_string(),
                    "counted_to": format_rfc3339_ms(u.counted_to_ms),
                    "recorded": format_rfc3339_ms(u.recorded_ms),
                    "reason": u.reason,
                    "by": u.by,
                })).collect::<Vec<_>>(),
            },
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(0);
    }
    outln!(
        "at {}: {} active bans, blocklist {} IPv4 + {} IPv6 entries",
        format_rfc3339_ms(now),
        d.bans.iter().filter(|b| b.active).count(),
        d.blocklist.ipv4.len(),
        d.blocklist.ipv6.len()
    );
    if let Some(s) = &state.manual.stopped {
        outln!(
            "ENFORCEMENT STOPPED since {} by {} ({}): the IP sets hold none of floodgate's entries; `floodgate resume` puts them back",
            format_rfc3339_ms(s.since_ms),
            s.by,
            if s.reason.is_empty() { "-" } else { &s.reason }
        );
    }
    if !shown.is_empty() {
        outln!();
        ban_table(&d, shown.into_iter());
    }
    for m in &state.manual.bans {
        outln!(
            "  manual ban {} by {} at {}: {}",
            m.cidr,
            m.by,
            format_rfc3339_ms(m.since_ms),
            if m.reason.is_empty() { "-" } else { &m.reason }
        );
    }
    for u in &state.manual.unbans {
        outln!(
            "  unban {} by {} at {} (requests counted to {} do not ban again): {}",
            u.cidr,
            u.by,
            format_rfc3339_ms(u.recorded_ms),
            format_rfc3339_ms(u.counted_to_ms),
            if u.reason.is_empty() { "-" } else { &u.reason }
        );
    }
    Ok(0)
}

/// `floodgate completions SHELL`: clap's own generator.
pub fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    let mut cmd = crate::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "floodgate", &mut buf);
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(0)
}

/// `floodgate man`: the man page (roff), from clap's own generator.
pub fn man() -> Result<u8, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(crate::Cli::command()).render(&mut buf)?;
    out!("{}", String::from_utf8_lossy(&buf));
    Ok(0)
}

/// `floodgate rollback`.
#[derive(Args)]
pub struct RollbackArgs {
    /// The Lambda's state, `s3://bucket/key` (the bucket keeps earlier versions).
    #[arg(long)]
    state: PathBuf,
    /// The version to put back (`aws s3api list-object-versions --bucket B --prefix KEY`).
    #[arg(long = "to", value_name = "VERSION_ID")]
    version: String,
}

/// `floodgate rollback --state s3://… --to VERSION`: see [`crate::aws::rollback_s3_state`].
pub fn rollback(args: RollbackArgs) -> Result<u8, Failure> {
    let Some(url) = args.state.to_str().filter(|p| p.starts_with("s3://")) else {
        return Err(Failure::usage(anyhow::anyhow!(
            "{}: a local state file has no versions to roll back to; rollback takes the Lambda's s3://bucket/key",
            args.state.display()
        )));
    };
    let decided = crate::aws::rollback_s3_state(url, &args.version)?;
    outln!(
        "{url} is version {} again (last decided at {}), with today's IP set ownership and manual decisions kept. The IP sets follow at the next run.",
        args.version,
        format_rfc3339_ms(decided)
    );
    Ok(0)
}
