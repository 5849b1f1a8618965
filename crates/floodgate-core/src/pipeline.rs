//! The map step both front ends share: one log object → its summary and its tally.
//!
//! The CLI reads local files (in parallel) and the Lambda reads S3 objects; both call
//! [`read_object`] for each, then [`RunInput::add`] in a fixed order, then
//! [`engine::run`](crate::engine::run). Objects whose id the state already holds are skipped,
//! so a redelivered S3 event or a re-run over the same folder counts nothing twice.

use crate::config::Config;
use crate::engine::RunInput;
use crate::ingest::{read_log, FileSummary, IngestError, IngestOptions};
use crate::ingest_par::{read_log_par, Parallel};
use crate::lateness::LateLines;
use crate::state::State;
use crate::tally::Tally;
use std::io::Read;

/// Read one object into a fresh tally. `late` comes from the state the run will be absorbed
/// into ([`LateLines::of`]): the object's records older than its source's line are late.
pub fn read_object<R: Read>(
    config: &Config,
    late: &LateLines,
    path: &str,
    input: R,
) -> Result<(FileSummary, Tally), IngestError> {
    read_object_with(config, &config.source, late, path, input)
}

/// [`read_object`] with other ingest options than `[source]`: a stream whose source fixes the
/// format (Kinesis carries CloudFront real-time records, never detected from content).
pub fn read_object_with<R: Read>(
    config: &Config,
    opts: &IngestOptions,
    late: &LateLines,
    path: &str,
    input: R,
) -> Result<(FileSummary, Tally), IngestError> {
    let mut tally = Tally::new(config, 0);
    let summary = read_log(path, input, opts, |r| tally.observe(config, r))?;
    Ok(finish(late, summary, tally))
}

/// [`read_object`] on `threads` threads ([`read_log_par`]): one big object decompressed on one
/// thread while the others parse, for a machine (a Lambda of 1,769 MB or more, `--jobs 2` on
/// one file) with more cores than objects. The result is identical to [`read_object`]'s.
pub fn read_object_par<R: Read>(
    config: &Config,
    late: &LateLines,
    path: &str,
    input: R,
    threads: usize,
) -> Result<(FileSummary, Tally), IngestError> {
    read_object_par_with(config, late, path, input, Parallel::threads(threads))
}

/// [`read_object_par`] with the chunk size given too (tests cut chunks anywhere).
pub fn read_object_par_with<R: Read>(
    config: &Config,
    late: &LateLines,
    path: &str,
    input: R,
    par: Parallel,
) -> Result<(FileSummary, Tally), IngestError> {
    let mut tally = Tally::new(config, 0);
    let opts = &config.source;
    let summary = read_log_par(path, input, opts, par, |r| tally.observe(config, r))?;
    Ok(finish(late, summary, tally))
}

fn finish(late: &LateLines, summary: FileSummary, mut tally: Tally) -> (FileSummary, Tally) {
    // The format, and so the source and its line, is known once the object is read.
    if let (Some(f), Some(newest)) = (summary.format, summary.last_time_ms) {
        tally.sources.insert(f, newest);
    }
    tally.make_late_before(late.line(summary.format));
    (summary, tally)
}

impl RunInput {
    /// An empty input for a run against `state`.
    pub fn new(config: &Config, state: &State) -> RunInput {
        RunInput {
            tally: Tally::new(config, state.settled_bucket),
            ..RunInput::default()
        }
    }

    /// Add one object's result. Call in a fixed order (e.g. sorted ids) for byte-identical
    /// reports; the counts and the decision do not depend on the order.
    pub fn add(&mut self, id: String, summary: FileSummary, tally: Tally) {
        // The first object's tally is moved in, not copied: with one big file, the run holds
        // one copy of the counts instead of two.
        if self.tally.records == 0
            && self.tally.rules.iter().all(|m| m.is_empty())
            && !tally.rules.is_empty()
        {
            self.tally = tally;
        } else {
            self.tally.merge(&tally);
        }
        self.files.push(summary);
        self.processed_ids.push(id);
    }

    /// Record an object skipped because it was processed before.
    pub fn skip(&mut self, id: String) {
        self.skipped.push(id);
    }
}
