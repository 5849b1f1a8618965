//! `floodgate analyze PATH…`: read logs in parallel, run the engine once, write the reports.
//!
//! Files are read in chunks by a rayon pool of `--jobs` threads (the *map*); each chunk's
//! results are merged in sorted path order (the *reduce*), so output is identical for any
//! `--jobs` and any argument order.

use crate::inputs::{self, HashingReader, Input};
use crate::state_file::StateFile;
use crate::{config_for_state, output, parse_now, Failure};
use anyhow::Context;
use clap::Args;
use floodgate_core::config::Config;
use floodgate_core::decision::Decision;
use floodgate_core::decode::CountingReader;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::ingest::{FileSummary, IngestError};
use floodgate_core::lateness::LateLines;
use floodgate_core::pipeline::read_object_par;
use floodgate_core::report::text::{bytes as bytes_text, int};
use floodgate_core::state::State;
use floodgate_core::tally::Tally;
use floodgate_core::timefmt::format_rfc3339_ms;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `analyze`.
#[derive(Args, Debug, Clone)]
pub struct AnalyzeArgs {
    /// Log files or folders (read recursively); gzip or plain; format detected from content.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Configuration file (TOML); default: the built-in configuration.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Folder for report.json, report.md, report.html and the blocklists.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// State file: loaded if present, saved after the run (incremental runs, like the Lambda).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Decision time (RFC 3339, UTC); default: the newest event time seen.
    #[arg(long)]
    now: Option<String>,
    /// Decide and report only: the state file is not written.
    #[arg(long)]
    dry_run: bool,
    /// Files read in parallel; default: all cores.
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// No progress bar and no summary on stdout (errors still go to stderr).
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Exit 3 when any line was rejected or any file was damaged.
    #[arg(long)]
    strict: bool,
    /// Print report.json on stdout instead of the summary (schema: docs/report-schema.md).
    #[arg(long)]
    json: bool,
    /// Also list the near misses: clients at half a rule's limit or more without an offence.
    #[arg(long)]
    near_misses: bool,
    /// Keep watching: analyze what is new in PATH… every INTERVAL ("30s", "5m") on --state,
    /// for people who do not run the Lambda. Stops on Ctrl-C or an error other than "nothing
    /// to read yet".
    #[arg(long, value_name = "INTERVAL", requires = "state")]
    follow: Option<String>,
}

fn progress(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}")
            .expect("static template"),
    );
    pb
}

/// Read one file on `threads` threads (more than one when there are fewer files than
/// `--jobs`: one big file is then inflated on one core and parsed on the others, with the
/// one-thread result); an unreadable file becomes an incomplete summary, never a lost one.
/// Returns the content id computed while reading when the input could not be hashed
/// beforehand (a pipe).
fn read_one(
    config: &Config,
    late: &LateLines,
    input: &Input,
    threads: usize,
    pb: &ProgressBar,
    records: &AtomicU64,
) -> Result<(FileSummary, Tally, Option<String>), IngestError> {
    let shown = input.path.display().to_string();
    let file = match input.open() {
        Ok(f) => f,
        Err(e) => {
            let summary = FileSummary::unread(shown, format!("cannot open: {e}"));
            return Ok((summary, Tally::new(config, 0), None));
        }
    };
    let pb2 = pb.clone();
    let mut hashing = HashingReader::new(file, !input.regular);
    let counted = CountingReader::new(&mut hashing, Some(Box::new(move |n| pb2.inc(n))));
    let (summary, tally) = read_object_par(config, late, &shown, counted, threads)?;
    let id = hashing.id();
    let total = records.fetch_add(summary.records, Ordering::Relaxed) + summary.records;
    let secs = pb.elapsed().as_secs_f64().max(0.001);
    pb.set_message(format!("{total} records, {:.0}/s", total as f64 / secs));
    Ok((summary, tally, id))
}

/// Read every input not yet in `state` in parallel (`jobs` threads, default all cores) and
/// merge the results in sorted path order: the map and the ordered reduce of a run. Inputs
/// are identified by content ([`crate::inputs`]): a file whose bytes were counted before (in
/// the state, or earlier in this run under another path) is skipped, not counted again.
pub fn read_inputs(
    config: &Config,
    state: &State,
    files: &[Input],
    jobs: Option<usize>,
    quiet: bool,
) -> Result<RunInput, Failure> {
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .context("starting worker threads")?;
    let mut input = RunInput::new(config, state);
    // Content ids of regular files first (hashing is far cheaper than parsing), so a file
    // counted before is not parsed again.
    let ids: Vec<Option<String>> = pool.install(|| {
        files
            .par_iter()
            .map(|f| f.regular.then(|| f.content_id().ok()).flatten())
            .collect()
    });
    let mut seen: std::collections::HashSet<String> = Default::default();
    let mut todo: Vec<(&Input, Option<String>)> = Vec::new();
    for (f, id) in files.iter().zip(ids) {
        let known = |id: &str| state.is_processed(id);
        match id {
            _ if f.regular && known(&f.legacy_id()) => input.skip(f.path.display().to_string()),
            Some(id) if known(&id) || !seen.insert(id.clone()) => {
                input.skip(f.path.display().to_string())
            }
            id => todo.push((f, id)),
        }
    }
    let pb = progress(todo.iter().map(|(f, _)| f.size).sum(), quiet);
    let records = Arc::new(AtomicU64::new(0));
    let late = LateLines::of(config, state);
    // Cores the files alone would leave idle go to reading each file on several threads.
    let threads = (jobs / todo.len().max(1)).max(1);
    for chunk in todo.chunks(jobs * 4) {
        let results: Vec<_> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(f, _)| read_one(config, &late, f, threads, &pb, &records))
                .collect()
        });
        for ((f, id), result) in chunk.iter().zip(results) {
            let (summary, tally, read_id) = result.map_err(Failure::usage)?;
            // An input that could be neither hashed nor opened keeps its path as its id.
            let id = id.clone().or(read_id).unwrap_or_else(|| f.legacy_id());
            if state.is_processed(&id) || (!f.regular && !seen.insert(id.clone())) {
                input.skip(f.path.display().to_string());
                continue;
            }
            input.add(id, summary, tally);
        }
    }
    pb.finish_and_clear();
    Ok(input)
}

/// Read PATH arguments: local files and folders (in parallel), then `s3://` prefixes.
pub fn read_paths(
    config: &Config,
    state: &State,
    paths: &[PathBuf],
    jobs: Option<usize>,
    quiet: bool,
) -> Result<RunInput, Failure> {
    let (s3, local): (Vec<&PathBuf>, Vec<&PathBuf>) =
        paths.iter().partition(|p| crate::aws::is_s3(p));
    let local: Vec<PathBuf> = local.into_iter().cloned().collect();
    let files = if local.is_empty() {
        Vec::new()
    } else {
        inputs::collect(&local).map_err(|e| Failure::usage(anyhow::Error::from(e)))?
    };
    if files.is_empty() && s3.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!("{NO_FILES}")));
    }
    let mut input = read_inputs(config, state, &files, jobs, quiet)?;
    if !s3.is_empty() {
        let urls: Vec<String> = s3.iter().map(|p| p.display().to_string()).collect();
        crate::aws::read_s3(config, state, &urls, jobs, &mut input)?;
    }
    Ok(input)
}

/// Run `analyze`; returns the exit code.
/// Why a run over folders that hold no file yet fails (`--follow` waits instead).
const NO_FILES: &str = "no files found under the given paths";

pub fn run(args: AnalyzeArgs) -> Result<u8, Failure> {
    let Some(every) = args.follow.clone() else {
        return run_once(args);
    };
    let ms = floodgate_core::config::parse_duration("--follow", &every).map_err(Failure::usage)?;
    if ms <= 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "--follow must be longer than 0"
        )));
    }
    if !args.quiet {
        outln!(
            "watching {} path(s) every {every}; Ctrl-C stops",
            args.paths.len()
        );
    }
    loop {
        match run_once(args.clone()) {
            // Nothing to read yet (an empty folder, or only files already counted at first):
            // keep watching; anything else (usage, I/O, a state changed under us) stops.
            Err(f) if f.code == 1 && !args.quiet => eprintln!("floodgate: {:#}", f.error),
            Err(f) if f.code == 1 => {}
            Err(f) if f.error.to_string() == NO_FILES => {}
            Err(f) => return Err(f),
            Ok(_) => {}
        }
        std::thread::sleep(std::time::Duration::from_millis(ms as u64));
    }
}

fn run_once(args: AnalyzeArgs) -> Result<u8, Failure> {
    let started = Instant::now();
    let now = parse_now(args.now.as_deref())?;
    // One run at a time per state file: held until this run has saved (or failed).
    let _lock = match &args.state {
        Some(p) if !args.dry_run && !crate::aws::is_s3(p) => Some(StateFile::new(p).lock()?),
        _ => None,
    };
    let (mut state, version) = match &args.state {
        Some(p) => {
            let (s, v) = crate::state_file::load_any(p)?;
            (s.unwrap_or_default(), v)
        }
        None => (State::default(), None),
    };
    // `--config`, else the configuration the state was decided with, else the built-in one.
    let (mut config, config_source) = config_for_state(args.config.as_deref(), &state)?;
    // `ban.dry_run` in the configuration means "touch no IP set" (as the Lambda reads it): the
    // decision is still recorded. Only `--dry-run` leaves the state file alone, as documented;
    // reading the config's flag as `--dry-run` silently lost a day's work (and a running ban).
    let dry_run = args.dry_run || config.ban.dry_run;
    config.ban.dry_run = dry_run;
    let save_state = !args.dry_run;
    state
        .check_resolution(config.engine.resolution_ms)
        .map_err(Failure::usage)?;
    let input = read_paths(&config, &state, &args.paths, args.jobs, args.quiet)?;
    if args.follow.is_some() && input.processed_ids.is_empty() {
        // Watching and nothing new: the decision (at the newest event) is what it was, so the
        // state and the reports are left as they are instead of rewritten every interval.
        return Ok(0);
    }
    if let Some(why) = no_log_records(&input) {
        // Nothing to decide on: earlier reports, blocklists and the state are left as they are
        // (writing empty ones "decided at 1970" looked like success and erased a review).
        return Err(Failure::from(anyhow::anyhow!("{why}")));
    }

    let decision = engine::run(&config, &mut state, input, now, dry_run).map_err(Failure::usage)?;
    state.config = Some(config_source);
    let html = output::write_reports(&config, &state, &decision, &args.out)?;
    if let (Some(path), true) = (&args.state, save_state) {
        crate::state_file::save_any(path, &state, &version)?;
    }
    if args.json {
        let report = floodgate_core::report::Report::build(&config, &state, &decision);
        outln!("{}", report.to_json());
    } else if !(args.quiet || args.follow.is_some() && state.last_run.files.is_empty()) {
        print_summary(
            &state,
            &decision,
            &html,
            args.state.as_ref().filter(|_| save_state),
            started.elapsed().as_secs_f64(),
        );
    }
    if args.near_misses && !args.json {
        print_near_misses(&state.last_run.near_misses);
    }
    let run = &state.last_run;
    let damaged = run.rejected.total() > 0 || run.files.iter().any(|f| !f.complete);
    if args.strict && damaged {
        let incomplete = run.files.iter().filter(|f| !f.complete).count();
        eprintln!(
            "floodgate: --strict: {} line(s) rejected ({}) and {incomplete} damaged file(s); see the report's rejected and files sections",
            run.rejected.total(),
            run.rejected
                .counts
                .iter()
                .map(|(r, n)| format!("{n} {r}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(3);
    }
    Ok(0)
}

/// `analyze --near-misses`: the run's near misses (floodgate_core::near_miss), one a line.
fn print_near_misses(near: &[floodgate_core::near_miss::NearMiss]) {
    outln!(
        "\n  near misses: {} client(s) at half a rule's limit or more without an offence",
        near.len()
    );
    if near.is_empty() {
        return;
    }
    outln!(
        "  {:<8} {:<24} {:>13} {:>8}",
        "RULE",
        "CLIENT",
        "PEAK/LIMIT",
        "OF LIMIT"
    );
    for n in near {
        outln!(
            "  {:<8} {:<24} {:>13} {:>7.0}%",
            n.rule,
            n.cidr,
            format!("{}/{}", int(n.peak.into()), int(n.limit.into())),
            f64::from(n.peak) * 100.0 / f64::from(n.limit.max(1))
        );
    }
}

/// The bans table `analyze` and `bans` print: one line a ban, with its status in `d`.
pub fn ban_table<'a>(d: &Decision, bans: impl Iterator<Item = &'a floodgate_core::decision::Ban>) {
    outln!(
        "  {:<24} {:<8} {:>13} {:>8}  {:<24} STATUS",
        "CIDR",
        "RULE",
        "PEAK/LIMIT",
        "OFFENCES",
        "UNTIL"
    );
    for b in bans {
        let status = if d.kept.binary_search(&b.key).is_ok() {
            "blocked"
        } else if b.active {
            "dropped"
        } else {
            "expired"
        };
        let peak = if b.peak_limit == 0 {
            "-".to_string() // a manual ban counts nothing
        } else {
            format!("{}/{}", int(b.peak as u64), int(b.peak_limit as u64))
        };
        outln!(
            "  {:<24} {:<8} {:>13} {:>8}  {:<24} {}",
            b.cidr.to_string(),
            b.rule,
            peak,
            b.offences,
            format_rfc3339_ms(b.until_ms),
            status
        );
    }
}

fn print_summary(
    state: &State,
    d: &Decision,
    html: &std::path::Path,
    saved: Option<&PathBuf>,
    secs: f64,
) {
    let run = &state.last_run;
    let bytes: u64 = run.files.iter().map(|f| f.bytes_in).sum();
    outln!(
        "read {} files ({}) in {:.1}s: {} records, {} rejected, {} late, {} allowlisted, {} clients",
        run.files.len(),
        bytes_text(bytes),
        secs,
        int(run.records),
        int(run.rejected.total()),
        int(run.late),
        int(run.allowlisted),
        int(run.distinct_keys)
    );
    let mut by_format = std::collections::BTreeMap::<String, (u64, u64, u64)>::new();
    for f in &run.files {
        let e = by_format
            .entry(
                f.format
                    .map_or("unknown".into(), |x| x.as_str().to_string()),
            )
            .or_default();
        e.0 += 1;
        e.1 += f.records;
        e.2 += f.rejected.total();
    }
    // The widest format name sets the column (`cloudfront-json` is longer than the 11 the
    // others fit in, and pushed its row out of line).
    let width = by_format.keys().map(|k| k.len()).max().unwrap_or(0).max(11);
    for (format, (files, records, rejected)) in by_format {
        outln!(
            "  {format:<width$} {files:>5} files {:>12} records {:>8} rejected",
            int(records),
            int(rejected)
        );
    }
    let incomplete = run.files.iter().filter(|f| !f.complete).count();
    if incomplete > 0 {
        outln!("  {incomplete} file(s) could not be read to the end (see the report)");
    }
    if !run.skipped.is_empty() {
        outln!(
            "  {} file(s) skipped: already in the state",
            run.skipped.len()
        );
    }
    let active = d.bans.iter().filter(|b| b.active).count();
    let new = d.bans.iter().filter(|b| b.new).count();
    outln!(
        "at {}: {} active bans ({} new), blocklist {} IPv4 + {} IPv6 entries{}",
        format_rfc3339_ms(d.now_ms),
        active,
        new,
        d.blocklist.ipv4.len(),
        d.blocklist.ipv6.len(),
        if run.dry_run { " (dry run)" } else { "" }
    );
    if !d.bans.is_empty() {
        outln!();
        ban_table(d, d.bans.iter().take(10));
        if d.bans.len() > 10 {
            outln!("  … and {} more in the report", d.bans.len() - 10);
        }
    }
    let blocked_ranges: Vec<_> = d.ranges.iter().filter(|r| r.blocked).collect();
    if !blocked_ranges.is_empty() {
        let members: usize = blocked_ranges.iter().map(|r| r.members.len()).sum();
        outln!(
            "\n  {} network(s) banned whole, covering {} offenders (largest: {} with {} of {} clients seen)",
            int(blocked_ranges.len() as u64),
            int(members as u64),
            blocked_ranges[0].cidr,
            int(blocked_ranges[0].members.len() as u64),
            int(blocked_ranges[0].clients_seen as u64)
        );
    }
    if active > 0 {
        outln!(
            "  {:.1} % of {} offenders blocked ({} clients seen)",
            d.kept.len() as f64 / active as f64 * 100.0,
            int(active as u64),
            int(d.clients_seen)
        );
    }
    for t in &d.tripped {
        outln!(
            "\n  GUARDRAIL TRIPPED: {}; its {} new ban(s) are held back. A rule that bans most of the site's audience is more likely broken than under attack: check it, or raise ban.guardrail.max_share.",
            t.why(),
            int(t.held_back)
        );
    }
    if !d.dropped.is_empty() {
        let mut by: std::collections::BTreeMap<&str, u64> = Default::default();
        for x in &d.dropped {
            *by.entry(x.reason.as_str()).or_default() += 1;
        }
        let parts: Vec<String> = by.iter().map(|(r, n)| format!("{} {r}", int(*n))).collect();
        outln!(
            "\n  {} active ban(s) left out of the blocklist: {} (see dropped[] in report.json)",
            int(d.dropped.len() as u64),
            parts.join(", ")
        );
    }
    outln!(
        "\nreports: {} (and report.json, report.md, blocklist-ipv4.txt, blocklist-ipv6.txt)",
        html.display()
    );
    if let Some(p) = saved {
        outln!("state: {}", p.display());
    }
}

/// Why a run read no log record at all, naming each input (`None` when some input held a
/// record, or was skipped as already counted).
pub fn no_log_records(input: &floodgate_core::engine::RunInput) -> Option<String> {
    if !input.skipped.is_empty() || input.files.iter().any(|f| f.records > 0) {
        return None;
    }
    if input.files.is_empty() {
        return Some("no log file found in the inputs given".to_string());
    }
    let mut out = String::from("no input held a log record; nothing was decided or written:");
    for f in &input.files {
        out.push_str(&format!("\n  {}: {}", f.path, why_no_records(f)));
    }
    Some(out)
}

/// One file's reason for holding no record, from its summary.
fn why_no_records(f: &floodgate_core::FileSummary) -> String {
    if f.lines == 0 {
        return f.damage.clone().unwrap_or_else(|| "empty".to_string());
    }
    let first = f.rejected.samples.first();
    let detail = first.map_or(String::new(), |s| {
        format!(" (line {}: {})", s.line, s.detail)
    });
    let by: Vec<String> = f
        .rejected
        .counts
        .iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    match f.format {
        None => format!(
            "not a log floodgate reads: no line is a WAF, CloudFront or ALB record; {} of {} lines rejected ({}){detail}",
            f.rejected.total(),
            f.lines,
            by.join(", ")
        ),
        Some(fmt) => format!(
            "{} log with no usable record: {} of {} lines rejected ({}){detail}",
            fmt.as_str(),
            f.rejected.total(),
            f.lines,
            by.join(", ")
        ),
    }
}
