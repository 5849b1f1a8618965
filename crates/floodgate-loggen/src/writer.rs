//! Files on disk: naming like AWS does, gzip members, per-file accounting, late files and
//! injected bad lines.

use crate::catalog::Catalog;
use crate::formats::cloudfront_v2::{self, Layout};
use crate::formats::{alb, cloudfront, waf, BAD_IP, BAD_JSON, BAD_TIME, INVALID_UTF8};
use crate::manifest::FileEntry;
use crate::model::{Client, Event};
use crate::time::{key_stamp, Civil, HOUR, MINUTE};
use crate::{Compression, Format};
use flate2::write::GzEncoder;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const FLUSH_AT: usize = 128 * 1024;

enum Enc {
    Gz(Box<GzEncoder<File>>),
    Plain(File),
    Done,
}

/// One output file being written.
pub struct FileSink {
    entry: FileEntry,
    enc: Enc,
    level: Option<flate2::Compression>,
    /// Uncompressed bytes not yet handed to the encoder.
    pub buf: Vec<u8>,
    member_bytes: u64,
}

impl FileSink {
    fn create(
        root: &Path,
        rel: String,
        format: Format,
        comp: Compression,
        late: bool,
    ) -> io::Result<FileSink> {
        let full = root.join(&rel);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(&full)?;
        let level = match comp {
            Compression::Fast => Some(flate2::Compression::fast()),
            Compression::Default => Some(flate2::Compression::default()),
            Compression::None => None,
        };
        let enc = match level {
            Some(l) => Enc::Gz(Box::new(GzEncoder::new(file, l))),
            None => Enc::Plain(file),
        };
        let entry = FileEntry {
            path: rel,
            format,
            records: 0,
            lines: 0,
            bytes: 0,
            gzip_members: u64::from(level.is_some()),
            first_time_ms: i64::MAX,
            last_time_ms: i64::MIN,
            late,
            bad_lines: BTreeMap::new(),
        };
        Ok(FileSink {
            entry,
            enc,
            level,
            buf: Vec::with_capacity(FLUSH_AT + 8192),
            member_bytes: 0,
        })
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        match &mut self.enc {
            Enc::Gz(e) => e.write_all(&self.buf)?,
            Enc::Plain(f) => f.write_all(&self.buf)?,
            Enc::Done => {}
        }
        self.member_bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Accounts for a line just appended to `buf`.
    fn line_added(&mut self, len: usize, record_time: Option<i64>) -> io::Result<()> {
        self.entry.lines += 1;
        self.entry.bytes += len as u64;
        if let Some(t) = record_time {
            self.entry.records += 1;
            self.entry.first_time_ms = self.entry.first_time_ms.min(t);
            self.entry.last_time_ms = self.entry.last_time_ms.max(t);
        }
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Ends the current gzip member and starts another (Firehose concatenates members).
    fn member_break(&mut self) -> io::Result<()> {
        self.flush_buf()?;
        if self.member_bytes == 0 {
            return Ok(());
        }
        if let (Enc::Gz(_), Some(level)) = (&self.enc, self.level) {
            if let Enc::Gz(e) = std::mem::replace(&mut self.enc, Enc::Done) {
                let file = e.finish()?;
                self.enc = Enc::Gz(Box::new(GzEncoder::new(file, level)));
                self.entry.gzip_members += 1;
                self.member_bytes = 0;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<FileEntry> {
        self.flush_buf()?;
        match std::mem::replace(&mut self.enc, Enc::Done) {
            Enc::Gz(e) => {
                e.finish()?.sync_all().ok();
            }
            Enc::Plain(mut f) => f.flush()?,
            Enc::Done => {}
        }
        if self.entry.records == 0 {
            self.entry.first_time_ms = 0;
            self.entry.last_time_ms = 0;
        }
        Ok(self.entry)
    }
}

/// Per-file decisions made when the file is opened.
struct Open {
    period: i64,
    period_end: i64,
    sink: FileSink,
    columns: usize,
    /// The fields of a CloudFront v2 file.
    layout: Option<Layout>,
    trailing_tab: bool,
    multi_member: bool,
    bad: Vec<&'static str>,
}

/// Routes one format's events to files named and cut like AWS would.
pub struct FormatOut {
    format: Format,
    root: PathBuf,
    comp: Compression,
    start: i64,
    rng: ChaCha8Rng,
    file_no: u32,
    bad_lines: bool,
    cur: Option<Open>,
    line: Vec<u8>,
    /// Finished files.
    pub entries: Vec<FileEntry>,
    /// Uncompressed bytes written so far, including the open file.
    pub bytes: u64,
}

impl FormatOut {
    /// A router writing under `root`.
    pub fn new(
        format: Format,
        root: &Path,
        comp: Compression,
        start: i64,
        bad_lines: bool,
        rng: ChaCha8Rng,
    ) -> FormatOut {
        FormatOut {
            format,
            root: root.to_path_buf(),
            comp,
            start,
            rng,
            file_no: 0,
            bad_lines,
            cur: None,
            line: Vec::with_capacity(4096),
            entries: Vec::new(),
            bytes: 0,
        }
    }

    /// CloudFront hours alternate between one file and two half-hour files.
    fn split_hour(&self, hour_start: i64) -> bool {
        (hour_start.div_euclid(HOUR) - self.start.div_euclid(HOUR)) % 2 == 0
    }

    fn period_of(&self, t: i64) -> (i64, i64) {
        match self.format {
            Format::Waf | Format::Alb => {
                let p = t.div_euclid(5 * MINUTE) * 5 * MINUTE;
                (p, p + 5 * MINUTE)
            }
            Format::CloudfrontJson | Format::CloudfrontW3c => {
                let h = t.div_euclid(HOUR) * HOUR;
                (h, h + HOUR)
            }
            Format::Cloudfront => {
                let h = t.div_euclid(HOUR) * HOUR;
                if self.split_hour(h) {
                    let p = t.div_euclid(30 * MINUTE) * 30 * MINUTE;
                    (p, p + 30 * MINUTE)
                } else {
                    (h, h + HOUR)
                }
            }
        }
    }

    fn open(&mut self, period: i64, period_end: i64) -> io::Result<()> {
        let no = self.file_no;
        self.file_no += 1;
        let hex = self.rng.next_u32();
        let gz = if self.comp == Compression::None {
            ""
        } else {
            ".gz"
        };
        let (rel, late) = match self.format {
            Format::Waf => {
                // The 7th file is delivered 15 minutes late: its key time is after newer files.
                let late = no == 6;
                let k = if late { period + 15 * MINUTE } else { period };
                let c = Civil::from_ms(k);
                let rel = format!(
                    "AWSLogs/123456789012/WAFLogs/us-east-1/floodgate-demo-acl/{:04}/{:02}/{:02}/{:02}/{:02}/123456789012_waflogs_us-east-1_floodgate-demo-acl_{}_{hex:08x}.log{gz}",
                    c.year, c.month, c.day, c.hour, c.minute, key_stamp(k)
                );
                (rel, late)
            }
            Format::Cloudfront => {
                // The second half of the first split hour is delivered under the next hour's name.
                let late = no == 1 && period.rem_euclid(HOUR) == 30 * MINUTE;
                let k = if late { period + 30 * MINUTE } else { period };
                let c = Civil::from_ms(k);
                let rel = format!(
                    "cloudfront/E2FLOODGATE0001.{:04}-{:02}-{:02}-{:02}.{hex:08x}{gz}",
                    c.year, c.month, c.day, c.hour
                );
                (rel, late)
            }
            Format::CloudfrontJson | Format::CloudfrontW3c => {
                // v2's S3 delivery with the default partitioning: {DistributionId}/{yyyy}/{MM}/{dd}/{HH}/.
                let c = Civil::from_ms(period);
                let kind = if self.format == Format::CloudfrontJson {
                    "json"
                } else {
                    "w3c"
                };
                let rel = format!(
                    "cloudfront-v2-{kind}/E2FLOODGATE0001/{:04}/{:02}/{:02}/{:02}/E2FLOODGATE0001.{:04}-{:02}-{:02}-{:02}.{hex:08x}.log{gz}",
                    c.year, c.month, c.day, c.hour, c.year, c.month, c.day, c.hour
                );
                (rel, false)
            }
            Format::Alb => {
                let k = period_end;
                let c = Civil::from_ms(k);
                let rel = format!(
                    "AWSLogs/123456789012/elasticloadbalancing/us-east-1/{:04}/{:02}/{:02}/123456789012_elasticloadbalancing_us-east-1_app.floodgate-demo.0123456789abcdef_{}_10.0.0.5_{hex:08x}.log{gz}",
                    c.year, c.month, c.day, key_stamp(k)
                );
                (rel, false)
            }
        };
        let mut sink = FileSink::create(&self.root, rel, self.format, self.comp, late)?;
        let columns = if self.format == Format::Cloudfront && no == 0 {
            cloudfront::OLD_COLUMNS
        } else {
            33
        };
        let layout = matches!(self.format, Format::CloudfrontJson | Format::CloudfrontW3c)
            .then(|| Layout::random(no, &mut self.rng));
        let before = sink.buf.len();
        match (&layout, self.format) {
            (_, Format::Cloudfront) => cloudfront::write_header(&mut sink.buf, columns),
            (Some(l), Format::CloudfrontW3c) => cloudfront_v2::write_w3c_header(&mut sink.buf, l),
            _ => {}
        }
        if sink.buf.len() > before {
            sink.entry.lines += 2;
            sink.entry.bytes += (sink.buf.len() - before) as u64;
            self.bytes += (sink.buf.len() - before) as u64;
        }
        let mut bad: Vec<&'static str> = match (self.bad_lines, self.format, no) {
            (false, _, _) => vec![],
            (_, Format::Waf, 2) => vec![BAD_JSON, BAD_IP, BAD_TIME, INVALID_UTF8],
            (_, Format::Waf, 9) => vec![BAD_JSON, BAD_JSON],
            (_, Format::Cloudfront | Format::CloudfrontW3c, 2) => {
                vec![BAD_IP, BAD_TIME, INVALID_UTF8]
            }
            (_, Format::CloudfrontJson, 2) => vec![BAD_JSON, BAD_IP, BAD_TIME, INVALID_UTF8],
            (_, Format::Alb, 3) => vec![BAD_IP, BAD_TIME, INVALID_UTF8, BAD_IP],
            _ => vec![],
        };
        bad.reverse();
        self.cur = Some(Open {
            period,
            period_end,
            sink,
            columns,
            layout,
            trailing_tab: self.format == Format::Cloudfront && no % 3 == 1,
            multi_member: self.format == Format::Waf && no % 3 == 1,
            bad,
        });
        Ok(())
    }

    /// Writes one event (events of one format arrive period by period).
    pub fn write(&mut self, ev: &Event, c: &mut Client, cat: &Catalog) -> io::Result<()> {
        let needs_new = match &self.cur {
            Some(o) => ev.t < o.period || ev.t >= o.period_end,
            None => true,
        };
        if needs_new {
            self.close()?;
            let (p, e) = self.period_of(ev.t);
            self.open(p, e)?;
        }
        let Some(o) = self.cur.as_mut() else {
            return Ok(());
        };
        let buf = &mut o.sink.buf;
        let before = buf.len();
        match self.format {
            Format::Waf => waf::write_record(buf, ev, c, cat, &mut self.rng),
            Format::Alb => alb::write_record(buf, ev, c, cat, &mut self.rng),
            Format::Cloudfront => {
                let n = o.sink.entry.records;
                let style = cloudfront::LineStyle {
                    columns: o.columns,
                    trailing_tab: o.trailing_tab && n % 25 == 7,
                    double_encoded: n % 199 == 11,
                };
                cloudfront::write_record(buf, ev, c, cat, &mut self.rng, &style);
            }
            Format::CloudfrontJson | Format::CloudfrontW3c => {
                let Some(layout) = &o.layout else {
                    return Ok(());
                };
                let output = if self.format == Format::CloudfrontJson {
                    cloudfront_v2::Output::Json
                } else {
                    cloudfront_v2::Output::W3c
                };
                cloudfront_v2::write_record(buf, output, layout, ev, c, cat, &mut self.rng);
            }
        }
        let len = buf.len() - before;
        c.requests += 1;
        self.bytes += len as u64;
        let records = o.sink.entry.records + 1;
        if !o.bad.is_empty() && records % 37 == 5 {
            self.line.clear();
            self.line.extend_from_slice(&o.sink.buf[before..]);
            let reason = o.bad.pop().unwrap_or(BAD_IP);
            match self.format {
                Format::Waf => waf::corrupt(&mut self.line, reason, c),
                Format::Cloudfront => cloudfront::corrupt(&mut self.line, reason, c),
                Format::Alb => alb::corrupt(&mut self.line, reason, c),
                Format::CloudfrontJson => cloudfront_v2::corrupt_json(&mut self.line, reason, c),
                Format::CloudfrontW3c => {
                    if let Some(layout) = &o.layout {
                        cloudfront_v2::corrupt_w3c(&mut self.line, reason, layout);
                    }
                }
            }
            o.sink.line_added(len, Some(ev.t))?;
            o.sink.buf.extend_from_slice(&self.line);
            *o.sink
                .entry
                .bad_lines
                .entry(reason.to_string())
                .or_insert(0) += 1;
            self.bytes += self.line.len() as u64;
            o.sink.line_added(self.line.len(), None)
        } else {
            o.sink.line_added(len, Some(ev.t))
        }
    }

    /// Called at the end of each time slice: Firehose-style files start a new gzip member.
    pub fn end_slice(&mut self) -> io::Result<()> {
        match &mut self.cur {
            Some(o) if o.multi_member => o.sink.member_break(),
            _ => Ok(()),
        }
    }

    /// Finishes the open file, if any.
    pub fn close(&mut self) -> io::Result<()> {
        if let Some(o) = self.cur.take() {
            self.entries.push(o.sink.finish()?);
        }
        Ok(())
    }
}
