//! `floodgate`: analyze access logs offline, render reports, explain decisions.
//!
//! The binary is thin: it parses arguments, reads files, and prints. Counting, deciding and
//! rendering are floodgate-core's, shared with the Lambda.
//!
//! Exit codes: 0 done (rejected lines and damaged files are reported, not fatal), 1 error,
//! 2 bad usage or configuration, 3 with `--strict` when anything was rejected or damaged.

/// `println!` that ends the process quietly when stdout is closed (`floodgate … | head`)
/// instead of panicking, and with exit 1 on any other write error.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::stdout_failed(e);
        }
    }};
}

/// `print!` with the same care as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            $crate::stdout_failed(e);
        }
    }};
}

/// What to do when writing to stdout fails.
fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("floodgate: error: writing to stdout: {e}");
    std::process::exit(1);
}

mod analyze;
mod aws;
mod compare;
mod console;
mod inputs;
mod output;
mod state_file;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use floodgate_core::config::{Config, ConfigSource, DEFAULT_CONFIG_TOML};
use floodgate_core::engine;
use floodgate_core::explain::explain;
use floodgate_core::state::State;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "floodgate",
    version,
    about = "Turn AWS WAF, CloudFront and ALB access logs into an adaptive blocklist",
    after_help = "Exit codes: 0 done (rejected lines and damaged files are reported, not fatal), 1 error, 2 bad usage or configuration, 3 with --strict when anything was rejected or damaged."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read logs (files or folders, gzip or plain), decide bans, write reports.
    Analyze(analyze::AnalyzeArgs),
    /// Re-render the reports of a saved state.
    Report {
        /// State file written by `analyze --state`.
        #[arg(long)]
        state: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        #[command(flatten)]
        common: ConfigArg,
        /// Decision time (RFC 3339); default: the time of the state's last run.
        #[arg(long)]
        now: Option<String>,
    },
    /// Why an address is or is not banned: from a saved state, or from logs (or both: the
    /// logs are analyzed on top of the state in memory; nothing is written).
    #[command(arg_required_else_help = true)]
    Explain {
        /// The address.
        ip: std::net::IpAddr,
        /// Log files or folders to analyze first.
        paths: Vec<PathBuf>,
        /// State file written by `analyze --state`.
        #[arg(long)]
        state: Option<PathBuf>,
        #[command(flatten)]
        common: ConfigArg,
        /// Decision time (RFC 3339); default: the time of the last run.
        #[arg(long)]
        now: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Push a saved decision to the WAF IP sets (only floodgate's own entries change).
    Sync(aws::SyncArgs),
    /// Check or print configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Try a rule change on past logs: the blocklist entries a proposed configuration would add and remove.
    Compare(compare::CompareArgs),
    /// List the active bans of a state (with --all also the ended ones within memory).
    Bans(console::BansArgs),
    /// Ban an address or CIDR now, for a duration (recorded in the state as rule "manual").
    #[command(arg_required_else_help = true)]
    Ban(console::ManualArgs),
    /// Lift the bans of an address or CIDR now; the requests already counted do not ban it again.
    #[command(arg_required_else_help = true)]
    Unban(console::ManualArgs),
    /// Emergency stop: take every entry floodgate added out of the IP sets at the next run (counting goes on).
    Stop(console::StopArgs),
    /// Undo `stop`: the next run puts the blocklist back into the IP sets.
    Resume(console::StopArgs),
    /// Put an earlier version of the Lambda's S3 state back (IP set ownership and manual decisions kept).
    Rollback(console::RollbackArgs),
    /// Print a shell completion script: floodgate completions bash > /etc/bash_completion.d/floodgate
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): floodgate man > floodgate.1
    Man,
}

#[derive(Args)]
struct ConfigArg {
    /// Configuration file (TOML); default: the built-in configuration.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate a configuration file.
    Check {
        /// The file.
        file: PathBuf,
        /// Print JSON: {"file", "ok", "rules": [{"name", "window_s", "limit"}]} or {"file", "ok": false, "error"}.
        #[arg(long)]
        json: bool,
    },
    /// Print the built-in configuration.
    Default,
}

/// An error with the exit code it deserves.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl Failure {
    /// Bad usage or configuration: exit 2.
    pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: 2,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 1,
            error: e.into(),
        }
    }
}

/// Load `--config` or the built-in configuration; errors are usage errors.
pub fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    Ok(load_config_source(path)?.0)
}

/// Load `--config` (or the built-in configuration) with its source: the text and the
/// allowlist files it read, which a state records.
pub fn load_config_source(path: Option<&Path>) -> Result<(Config, ConfigSource), Failure> {
    let source = match path {
        None => ConfigSource::builtin(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading {}", p.display()))
                .map_err(Failure::usage)?;
            // `[allow] files` are read relative to the configuration file, as a user expects.
            let dir = p.parent().unwrap_or(Path::new("."));
            let mut files = std::collections::BTreeMap::new();
            for name in Config::allow_files(&text)
                .map_err(|e| Failure::usage(anyhow::anyhow!("{}: {e}", p.display())))?
            {
                let body = std::fs::read_to_string(dir.join(&name)).map_err(|e| {
                    Failure::usage(anyhow::anyhow!("{}: allow.files: {name}: {e}", p.display()))
                })?;
                files.insert(name, body);
            }
            ConfigSource { text, files }
        }
    };
    let mut config = source.compile().map_err(|e| match path {
        Some(p) => Failure::usage(anyhow::anyhow!("{}: {e}", p.display())),
        None => Failure::usage(anyhow::anyhow!("built-in configuration: {e}")),
    })?;
    // Logs cannot be from the future: a record dated after the wall clock is `future_time`,
    // never counted and never moving the watermark (the core reads no clock; this is it).
    config.source.wall_clock_ms = Some(wall_clock_ms());
    Ok((config, source))
}

/// The configuration to decide `state` with: `--config` when given (saying so when the state
/// was decided with another one), else the one the state records, else the built-in one. One
/// rule for every command, so `analyze`, `report` and `explain` of one state tell one truth.
pub fn config_for_state(
    path: Option<&Path>,
    state: &State,
) -> Result<(Config, ConfigSource), Failure> {
    match (path, &state.config) {
        (Some(p), recorded) => {
            let (config, source) = load_config_source(Some(p))?;
            if recorded.as_ref().is_some_and(|r| *r != source) {
                eprintln!(
                    "floodgate: note: {} differs from the configuration this state was decided with; deciding with {}",
                    p.display(),
                    p.display()
                );
            }
            Ok((config, source))
        }
        (None, Some(recorded)) => {
            let mut config = recorded.compile().map_err(|e| {
                Failure::usage(anyhow::anyhow!(
                    "the configuration recorded in the state no longer compiles ({e}); give --config"
                ))
            })?;
            config.source.wall_clock_ms = Some(wall_clock_ms());
            Ok((config, recorded.clone()))
        }
        (None, None) => load_config_source(None),
    }
}

/// The system clock, ms since the epoch.
pub fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Parse `--now`.
pub fn parse_now(now: Option<&str>) -> Result<Option<i64>, Failure> {
    now.map(|s| {
        floodgate_core::timefmt::parse_rfc3339(s).ok_or_else(|| {
            Failure::usage(anyhow::anyhow!(
                "--now {s:?}: expected RFC 3339, like 2026-11-02T10:00:00Z or 2026-11-02T11:00:00+01:00"
            ))
        })
    })
    .transpose()
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Report {
            state,
            out,
            common,
            now,
        } => {
            let st = state_file::load_existing_any(&state)?;
            let (config, _) = config_for_state(common.config.as_deref(), &st)?;
            let now = parse_now(now.as_deref())?.unwrap_or(st.last_run.now_ms);
            let decision = engine::decide_again(&config, &st, now);
            let written = output::write_reports(&config, &st, &decision, &out)?;
            outln!("reports: {}", written.display());
            Ok(0)
        }
        Command::Explain {
            ip,
            paths,
            state,
            common,
            now,
            json,
        } => {
            let now = parse_now(now.as_deref())?;
            let mut st = match &state {
                Some(p) => state_file::load_existing_any(p)?,
                None if paths.is_empty() => {
                    return Err(Failure::usage(anyhow::anyhow!(
                        "give log paths, --state FILE, or both"
                    )))
                }
                None => State::default(),
            };
            let (config, _) = config_for_state(common.config.as_deref(), &st)?;
            if !paths.is_empty() {
                let input = analyze::read_paths(&config, &st, &paths, None, true)?;
                engine::run(&config, &mut st, input, now, true).map_err(Failure::usage)?;
            }
            let now = now.unwrap_or(st.last_run.now_ms);
            let decision = engine::decide_again(&config, &st, now);
            let e = explain(&config, &st, &decision, ip);
            if json {
                outln!("{}", serde_json::to_string_pretty(&e.to_json(now))?);
            } else {
                out!("{}", e.to_text(now));
            }
            Ok(0)
        }
        Command::Sync(args) => aws::sync(args),
        Command::Compare(args) => compare::run(args),
        Command::Bans(args) => console::bans(args),
        Command::Ban(args) => console::manual(args, true),
        Command::Unban(args) => console::manual(args, false),
        Command::Stop(args) => console::stop(args, true),
        Command::Resume(args) => console::stop(args, false),
        Command::Rollback(args) => console::rollback(args),
        Command::Completions { shell } => console::completions(shell),
        Command::Man => console::man(),
        Command::Config(ConfigCommand::Default) => {
            out!("{DEFAULT_CONFIG_TOML}");
            Ok(0)
        }
        Command::Config(ConfigCommand::Check { file, json: true }) => {
            let out = match load_config(Some(&file)) {
                Ok(c) => serde_json::json!({
                    "file": file.display().to_string(),
                    "ok": true,
                    "rules": c.rules.iter().map(|r| serde_json::json!({
                        "name": r.name,
                        "window_s": r.window_ms / 1000,
                        "limit": r.limit,
                    })).collect::<Vec<_>>(),
                }),
                Err(f) => {
                    let out = serde_json::json!({
                        "file": file.display().to_string(),
                        "ok": false,
                        "error": format!("{:#}", f.error),
                    });
                    outln!("{}", serde_json::to_string_pretty(&out)?);
                    return Ok(f.code);
                }
            };
            outln!("{}", serde_json::to_string_pretty(&out)?);
            Ok(0)
        }
        Command::Config(ConfigCommand::Check { file, json: false }) => {
            let c = load_config(Some(&file))?;
            outln!(
                "{}: ok ({} rules: {})",
                file.display(),
                c.rules.len(),
                c.rules
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("floodgate: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
