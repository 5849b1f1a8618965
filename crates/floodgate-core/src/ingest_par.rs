//! One log object read by several threads, with the one-thread read's exact result.
//!
//! Lambda gives a function two vCPUs from 1,769 MB, and one big object (a 300 MB hour of WAF
//! logs) is read by one thread in [`read_log`]: a fifth to a third of the time inflating, the
//! rest parsing. [`read_log_par`] overlaps them: the calling thread decompresses and cuts the
//! stream into chunks of whole lines (1 MiB), workers parse the chunks, and the calling thread
//! parses too whenever chunks queue up. Records reach the sink in file order, one chunk after
//! the other, so a [`Tally`](crate::tally::Tally) (whose profiles depend on the order requests
//! arrive) is the one a single thread would build; the chunks' counts and rejections (lines
//! numbered within the chunk, shifted when its turn comes) are added in chunk order, so
//! rejected-line numbers, samples, first and last times are identical too. A chunk parsed
//! before its turn is parked with its records copied out, so no thread waits for another.
//!
//! A format's per-file state (CloudFront's `#Fields`, the format detected on the first
//! recognisable line) is carried by a *master* parser on the reading thread: it reads the lines
//! before detection and then only the lines that may declare something
//! ([`FileParser::header_prefix`](crate::formats::FileParser::header_prefix)), and every chunk
//! gets a [fork](LineParser::fork) of it as it stood where the chunk starts. A line too long
//! to hold is measured while it streams past, never held whole, as [`LineReader`] does.
//!
//! [`LineReader`]: crate::lines::LineReader

use crate::decode::{self, CountingReader};
use crate::formats::LineParser;
use crate::ingest::{
    open_object, read_log, FileSummary, IngestError, IngestOptions, Part, PARQUET_MAGIC,
};
use crate::lines::{classify, Line, SliceLines};
use crate::request::Request;
use memchr::{memchr, memmem, memrchr};
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

/// Default decompressed bytes per chunk: large enough that handing a chunk over costs nothing
/// next to parsing it (~3,000 WAF records), small enough that a few queued chunks stay a few
/// MB of memory per thread.
pub const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

/// How to read one object with several threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parallel {
    /// Threads in all, the decompressing one included; 1 (or 0) is the one-thread read.
    pub threads: usize,
    /// Decompressed bytes per chunk (whole lines: a chunk ends at the first line end past
    /// this). Tests force tiny chunks to put boundaries everywhere.
    pub chunk_bytes: usize,
}

impl Parallel {
    /// `threads` threads with the default chunk size.
    pub fn threads(threads: usize) -> Parallel {
        Parallel {
            threads,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }
}

/// [`read_log`] on `par.threads` threads: the same summary, and the same records handed to
/// `sink` in the same order (from whichever thread's turn it is, hence `Send`).
pub fn read_log_par<R: Read, F: FnMut(&Request<'_>) + Send>(
    path: &str,
    input: R,
    opts: &IngestOptions,
    par: Parallel,
    sink: F,
) -> Result<FileSummary, IngestError> {
    if par.threads <= 1 {
        return read_log(path, input, opts, sink);
    }
    let mut counted = CountingReader::new(input, None);
    let (mut summary, mut reader) = match open_object(path, &mut counted, opts) {
        Ok(x) => x,
        Err(unopened) => return Ok(*unopened),
    };
    let shared = Shared {
        opts,
        queue: Mutex::new(Queue::default()),
        queued: Condvar::new(),
        turn: Mutex::new(Turn {
            next: 0,
            part: Part::new(path, opts),
            sink,
            error: None,
            lines: 0,
            parked: BTreeMap::new(),
        }),
        failed: AtomicBool::new(false),
        path,
        backlog: par.threads,
        free: Mutex::new(Vec::new()),
    };
    let mut producer = Producer {
        shared: &shared,
        master: opts.line_parser(),
        chunk_bytes: par.chunk_bytes.max(1),
        index: 0,
        bytes: 0,
        parquet: false,
        records: Vec::new(),
    };
    let end = std::thread::scope(|s| {
        for _ in 1..par.threads {
            s.spawn(|| shared.work());
        }
        let end = producer.run(&mut reader);
        shared.close();
        // Help with what is left; the workers end once the queue is empty.
        let mut records = Vec::new();
        while let Some(job) = shared.pop(false) {
            records = shared.process(job, records);
        }
        end
    });
    drop(reader);
    let Producer {
        master,
        bytes,
        parquet,
        ..
    } = producer;
    let turn = shared.turn.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = turn.error {
        return Err(e);
    }
    let (mut part, lines) = (turn.part, turn.lines);
    part.parquet = parquet;
    if let Some((e, partial)) = end {
        part.damaged(&mut summary, &e, bytes, lines + 1, partial);
    }
    summary.lines = lines;
    summary.bytes_decoded = bytes;
    summary.bytes_in = counted.count();
    part.finish(&mut summary, &master);
    Ok(summary)
}

/// What a chunk holds.
enum Body {
    /// Whole lines; the last one lacks its newline only at the end of the object.
    Lines(Vec<u8>),
    /// One line longer than the line cap and than a chunk: its first `max_line_bytes` bytes
    /// and its full length (as [`Line::TooLong`]).
    TooLong { head: Vec<u8>, len: u64 },
}

/// A chunk to parse, with everything the one-thread read would know when it got there.
struct Job {
    index: usize,
    body: Body,
    parser: LineParser,
    parquet: bool,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// The in-order part: whose turn it is to hand records to the sink, and the sum so far.
struct Turn<'o, F> {
    next: usize,
    part: Part<'o>,
    sink: F,
    error: Option<IngestError>,
    /// Lines in the chunks counted so far.
    lines: u64,
    /// Chunks parsed before their turn, records made owned: whoever counts the chunk before
    /// one counts it too, so no thread ever waits for another's chunk.
    parked: BTreeMap<usize, Parsed<'o, 'static>>,
}

/// A parsed chunk waiting for (or at) its turn.
struct Parsed<'o, 't> {
    /// Rejected lines numbered from 1 within the chunk.
    part: Part<'o>,
    records: Vec<Request<'t>>,
    error: Option<IngestError>,
    /// Lines in the chunk.
    lines: u64,
}

impl<'o, F: FnMut(&Request<'_>)> Turn<'o, F> {
    /// Count the chunk whose turn it is, then every parked chunk that follows it.
    fn count(&mut self, parsed: Parsed<'o, '_>) -> Vec<Request<'static>> {
        let store = self.absorb(parsed);
        while let Some(next) = self.parked.remove(&self.next) {
            self.absorb(next);
        }
        store
    }

    fn absorb(&mut self, mut parsed: Parsed<'o, '_>) -> Vec<Request<'static>> {
        if self.error.is_none() {
            for r in &parsed.records {
                (self.sink)(r);
            }
            for s in &mut parsed.part.rejected.samples {
                s.line += self.lines;
            }
            self.part.append(parsed.part);
            self.error = parsed.error;
        }
        self.lines += parsed.lines;
        self.next += 1;
        parsed.records.clear();
        reuse(parsed.records)
    }
}

struct Shared<'o, F> {
    path: &'o str,
    opts: &'o IngestOptions,
    queue: Mutex<Queue>,
    queued: Condvar,
    turn: Mutex<Turn<'o, F>>,
    /// A chunk met a format the configuration cannot read: the result is that error, so
    /// reading on is pointless.
    failed: AtomicBool,
    /// Queued chunks beyond which the decompressing thread parses one itself.
    backlog: usize,
    /// Chunk buffers parsed and counted, for the next chunks: fresh ones cost page faults.
    free: Mutex<Vec<Vec<u8>>>,
}

/// A poisoned lock only means another thread panicked; its panic reaches the caller through
/// the thread scope, so the data is used as it is instead of panicking again.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<F: FnMut(&Request<'_>) + Send> Shared<'_, F> {
    fn work(&self) {
        let mut records = Vec::new();
        while let Some(job) = self.pop(true) {
            records = self.process(job, records);
        }
    }

    /// An empty buffer for a chunk of about `bytes`.
    fn buffer(&self, bytes: usize) -> Vec<u8> {
        let mut b = lock(&self.free).pop().unwrap_or_default();
        b.reserve(bytes + decode::BUFFER_BYTES);
        b
    }

    fn recycle(&self, mut b: Vec<u8>) {
        b.clear();
        let mut free = lock(&self.free);
        if free.len() <= self.backlog * 2 + 2 {
            free.push(b);
        }
    }

    fn push(&self, job: Job) {
        lock(&self.queue).jobs.push_back(job);
        self.queued.notify_one();
    }

    fn backlog(&self) -> usize {
        lock(&self.queue).jobs.len()
    }

    /// The oldest queued chunk; with `wait`, waits for one until the queue is closed.
    fn pop(&self, wait: bool) -> Option<Job> {
        let mut q = lock(&self.queue);
        loop {
            if let Some(job) = q.jobs.pop_front() {
                return Some(job);
            }
            if q.closed || !wait {
                return None;
            }
            q = self.queued.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn close(&self) {
        lock(&self.queue).closed = true;
        self.queued.notify_all();
    }

    /// Parse a chunk, then hand its records to the sink if it is its turn (and the chunks
    /// parked behind it), or park it for the thread whose chunk comes before: no thread waits.
    /// `store` is an empty vector whose allocation is reused for the records (it is handed
    /// back, empty, for the next chunk).
    fn process(&self, job: Job, store: Vec<Request<'static>>) -> Vec<Request<'static>> {
        let max = self.opts.max_line_bytes;
        let mut part = Part::new(self.path, self.opts);
        part.parquet = job.parquet;
        let mut parser = job.parser;
        let mut records: Vec<Request<'_>> = reuse(store);
        let mut error = None;
        let mut keep = |r| records.push(r);
        // Line numbers within the chunk: the chunk's place in the file is known when its
        // turn comes (the decompressing thread does not count lines).
        let mut lines = 0;
        match &job.body {
            Body::Lines(text) => {
                for line in SliceLines::new(text, max) {
                    lines += 1;
                    if let Err(e) = part.take(&mut parser, lines, line, &mut keep) {
                        error = Some(e);
                        break;
                    }
                }
            }
            Body::TooLong { head, len } => {
                let line = Line::TooLong { head, len: *len };
                lines = 1;
                error = part.take(&mut parser, 1, line, &mut keep).err();
            }
        }
        let parsed = Parsed {
            part,
            records,
            error,
            lines,
        };
        let mut turn = lock(&self.turn);
        let store = if turn.next == job.index {
            turn.count(parsed)
        } else {
            // Not its turn yet: own the records (the chunk's text goes back to the pool) and
            // leave them for the thread that counts the chunk before.
            drop(turn);
            let Parsed {
                part,
                mut records,
                error,
                lines,
            } = parsed;
            let owned: Vec<Request<'static>> = records.drain(..).map(owned).collect();
            let parsed = Parsed {
                part,
                records: owned,
                error,
                lines,
            };
            turn = lock(&self.turn);
            if turn.next == job.index {
                turn.count(parsed);
            } else {
                turn.parked.insert(job.index, parsed);
            }
            reuse(records)
        };
        if turn.error.is_some() {
            self.failed.store(true, Ordering::Relaxed);
        }
        drop(turn);
        if let Body::Lines(text) = job.body {
            self.recycle(text);
        }
        store
    }
}

/// The decompressing thread's side: cuts chunks, keeps the master parser, counts lines.
struct Producer<'s, 'o, F> {
    shared: &'s Shared<'o, F>,
    master: LineParser,
    chunk_bytes: usize,
    index: usize,
    bytes: u64,
    parquet: bool,
    /// Allocation for the records of the chunks this thread parses.
    records: Vec<Request<'static>>,
}

impl<F: FnMut(&Request<'_>) + Send> Producer<'_, '_, F> {
    /// Read `reader` to its end (or its damage: the error and the bytes of the unfinished
    /// line), dispatching chunks of whole lines.
    fn run<B: BufRead>(&mut self, reader: &mut B) -> Option<(io::Error, u64)> {
        let max = self.shared.opts.max_line_bytes;
        let mut chunk: Vec<u8> = self.shared.buffer(self.chunk_bytes);
        // End of the last whole line in `chunk`.
        let mut whole = 0;
        // A line past the cap, streaming by: its head and its length so far.
        let mut long: Option<(Vec<u8>, u64)> = None;
        loop {
            if self.shared.failed.load(Ordering::Relaxed) {
                return None;
            }
            let avail = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let partial = match long.take() {
                        Some((_, len)) => len,
                        None => {
                            let partial = (chunk.len() - whole) as u64;
                            chunk.truncate(whole);
                            self.dispatch(Body::Lines(chunk));
                            partial
                        }
                    };
                    return Some((e, partial));
                }
            };
            if avail.is_empty() {
                break;
            }
            if let Some((head, len)) = &mut long {
                let (used, done) = match memchr(b'\n', avail) {
                    Some(i) => (i + 1, true),
                    None => (avail.len(), false),
                };
                *len += (used - usize::from(done)) as u64;
                reader.consume(used);
                self.bytes += used as u64;
                if done {
                    let (head, len) = (std::mem::take(head), *len);
                    long = None;
                    self.dispatch(Body::TooLong { head, len });
                }
                continue;
            }
            let n = avail.len();
            if let Some(i) = memrchr(b'\n', avail) {
                whole = chunk.len() + i + 1;
            }
            chunk.extend_from_slice(avail);
            reader.consume(n);
            self.bytes += n as u64;
            // Cut chunks at the first line end past each `chunk_bytes`, the last one at the
            // last line end: what stays behind is the start of one line.
            let mut cuts = Vec::new();
            let mut start = 0;
            while whole - start >= self.chunk_bytes {
                let from = start + self.chunk_bytes - 1;
                let end = match memchr(b'\n', &chunk[from..whole]) {
                    Some(i) if whole - (from + i + 1) >= self.chunk_bytes => from + i + 1,
                    _ => whole,
                };
                cuts.push(start..end);
                start = end;
            }
            if start > 0 {
                let mut next = self.shared.buffer(self.chunk_bytes);
                next.extend_from_slice(&chunk[start..]);
                whole -= start;
                if cuts.len() == 1 {
                    chunk.truncate(start);
                    self.dispatch(Body::Lines(std::mem::replace(&mut chunk, next)));
                } else {
                    for cut in cuts {
                        let mut piece = self.shared.buffer(cut.len());
                        piece.extend_from_slice(&chunk[cut]);
                        self.dispatch(Body::Lines(piece));
                    }
                    self.shared.recycle(std::mem::replace(&mut chunk, next));
                }
            }
            // The line being read is past the cap: measure the rest of it, keep only its head.
            if chunk.len() - whole > max.saturating_add(1) {
                let head = chunk[whole..whole + max].to_vec();
                long = Some((head, (chunk.len() - whole) as u64));
                chunk.truncate(whole);
                let next = self.shared.buffer(self.chunk_bytes);
                self.dispatch(Body::Lines(std::mem::replace(&mut chunk, next)));
                whole = 0;
            }
        }
        match long {
            Some((head, len)) => self.dispatch(Body::TooLong { head, len }),
            None => self.dispatch(Body::Lines(chunk)),
        }
        None
    }

    /// Queue a chunk with the master parser as it stands at its start, then bring the master
    /// past it; parse the oldest chunk here when chunks queue up.
    fn dispatch(&mut self, body: Body) {
        let max = self.shared.opts.max_line_bytes;
        if matches!(&body, Body::Lines(t) if t.is_empty()) {
            return;
        }
        if self.index == 0 {
            let head = match &body {
                Body::Lines(t) => SliceLines::new(t, max).next().map_or(&[][..], |l| l.head()),
                Body::TooLong { head, .. } => head,
            };
            self.parquet = head.starts_with(PARQUET_MAGIC);
        }
        let parser = self.master.fork();
        if let (Body::Lines(text), false) = (&body, self.parquet) {
            advance(&mut self.master, text, max);
        }
        self.shared.push(Job {
            index: self.index,
            body,
            parser,
            parquet: self.parquet,
        });
        self.index += 1;
        while self.shared.backlog() > self.shared.backlog {
            match self.shared.pop(false) {
                Some(job) => {
                    let store = std::mem::take(&mut self.records);
                    self.records = self.shared.process(job, store);
                }
                None => break,
            }
        }
    }
}

/// `r` with its text copied out of the chunk, to outlive it.
fn owned(r: Request<'_>) -> Request<'static> {
    fn own(c: Cow<'_, str>) -> Cow<'static, str> {
        Cow::Owned(c.into_owned())
    }
    Request {
        time_ms: r.time_ms,
        client: r.client,
        method: own(r.method),
        host: own(r.host),
        path: own(r.path),
        query: own(r.query),
        status: r.status,
        origin_status: r.origin_status,
        waf_action: r.waf_action.map(own),
        terminating_rule: r.terminating_rule.map(own),
        country: r.country.map(own),
        user_agent: own(r.user_agent),
        labels: r.labels.into_iter().map(own).collect(),
        ja3: r.ja3.map(own),
        ja4: r.ja4.map(own),
        asn: r.asn,
        header_names: r.header_names,
        challenge: r.challenge,
        captcha: r.captcha,
    }
}

/// The allocation of `v` for records of another lifetime (every record is dropped first).
fn reuse<'b>(mut v: Vec<Request<'_>>) -> Vec<Request<'b>> {
    v.clear();
    // An empty vector collected in place: same layout, so std keeps the allocation. (A
    // `filter` cannot change the element's lifetime, which is the point here.)
    #[allow(clippy::unnecessary_filter_map)]
    v.into_iter().filter_map(|_| None).collect()
}

/// Bring `master` past the lines of `text` as the one-thread read would: every line until the
/// format is detected, then only the lines that may declare something.
fn advance(master: &mut LineParser, text: &[u8], max: usize) {
    let mut pos = 0;
    while pos < text.len() && !master.detected() {
        let end = memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
        feed(master, &text[pos..end], max);
        pos = end + 1;
    }
    let Some(prefix) = master.header_prefix() else {
        return;
    };
    let needle = [b"\n", prefix.as_bytes()].concat();
    let finder = memmem::Finder::new(&needle);
    while pos < text.len() {
        if text[pos..].starts_with(prefix.as_bytes()) {
            let end = memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
            feed(master, &text[pos..end], max);
        }
        match finder.find(&text[pos..]) {
            Some(i) => pos += i + 1,
            None => break,
        }
    }
}

/// One line (without its newline) to the master, if the one-thread read would parse it.
fn feed(master: &mut LineParser, raw: &[u8], max: usize) {
    if let Line::Text(raw) = classify(raw, max) {
        if let Ok(text) = std::str::from_utf8(raw) {
            let _ = master.parse(text, &mut |_r: Request<'_>| {});
        }
    }
}

#[cfg(test)]
#[path = "ingest_par_tests.rs"]
mod tests;
