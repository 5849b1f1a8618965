//! The parallel read equals the one-thread read: summary (records, rejections with their line
//! numbers and samples, times, bytes, damage), the records in order, and the tally, for every
//! format, gzip shape, damage and chunk size down to one byte (a boundary after every byte).

use super::*;
use crate::client_ip::ClientIpSource;
use crate::config::Config;
use crate::lateness::LateLines;
use crate::pipeline::{read_object_par_with, read_object_with};
use flate2::write::GzEncoder;
use flate2::Compression;
use floodgate_loggen::{generate, Format as GenFormat, Options, Scenario};
use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

type Read = (Result<FileSummary, IngestError>, Vec<String>);

fn sequential(data: &[u8], opts: &IngestOptions) -> Read {
    let mut seen = Vec::new();
    let s = read_log("t.log", data, opts, |r| seen.push(format!("{r:?}")));
    (s, seen)
}

fn parallel(data: &[u8], opts: &IngestOptions, par: Parallel) -> Read {
    let mut seen = Vec::new();
    let s = read_log_par("t.log", data, opts, par, |r| seen.push(format!("{r:?}")));
    (s, seen)
}

/// The parallel read at many chunk sizes and thread counts equals the sequential one.
fn same(data: &[u8], opts: &IngestOptions, chunks: &[usize]) -> Read {
    let want = sequential(data, opts);
    for &chunk_bytes in chunks {
        for threads in [2, 3] {
            let par = Parallel {
                threads,
                chunk_bytes,
            };
            let got = parallel(data, opts, par);
            assert_eq!(got.0, want.0, "summary, {par:?}");
            assert_eq!(got.1, want.1, "records, {par:?}");
        }
    }
    want
}

const SIZES: &[usize] = &[1, 2, 3, 5, 17, 64, 333, 4096, 1 << 20];

fn loggen(format: GenFormat, seed: u64) -> Vec<u8> {
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("fg-par-{format:?}-{seed}-{pid}"));
    let opts = Options {
        scenario: Scenario::Mixed,
        formats: vec![format],
        seed,
        duration_ms: 10 * 60_000,
        users: 100,
        bad_lines: true,
        compression: floodgate_loggen::Compression::None,
        ..Options::default()
    };
    let m = generate(&opts, &dir).unwrap();
    let mut all = Vec::new();
    for f in &m.files {
        all.extend(std::fs::read(dir.join(&f.path)).unwrap());
    }
    let _ = std::fs::remove_dir_all(&dir);
    all
}

#[test]
fn generated_logs_of_every_format_plain_and_multi_member_gzip() {
    let opts = IngestOptions::default();
    for (i, format) in [GenFormat::Waf, GenFormat::Cloudfront, GenFormat::Alb]
        .into_iter()
        .enumerate()
    {
        let data = loggen(format, 3 + i as u64);
        let (s, records) = same(&data, &opts, &[1, 333, 8192, 1 << 20]);
        let s = s.unwrap();
        assert!(s.records > 100, "{s:?}");
        assert_eq!(records.len() as u64, s.records);
        // Several members, split mid-line, read as one stream.
        let cut = data.len() / 3;
        let mut gz = gzip(&data[..cut]);
        gz.extend(gzip(&data[cut..2 * cut]));
        gz.extend(gzip(&data[2 * cut..]));
        let (g, _) = same(&gz, &opts, &[7, 8192]);
        let g = g.unwrap();
        assert!(g.gzip && g.complete);
        assert_eq!((g.records, &g.rejected), (s.records, &s.rejected));
        // A damaged tail: what came before counts, the unfinished line is truncated.
        for end in [gz.len() - 3, gz.len() * 2 / 3, gz.len() / 2 + 1] {
            let (d, _) = same(&gz[..end], &opts, &[5, 4096]);
            assert!(!d.unwrap().complete);
        }
    }
}

#[test]
fn waf_with_a_wall_clock_rejects_the_same_future_lines() {
    let data = loggen(GenFormat::Waf, 9);
    let opts = IngestOptions {
        wall_clock_ms: Some(1_700_000_000_000),
        ..IngestOptions::default()
    };
    let (s, _) = same(&data, &opts, &[64, 4096]);
    let s = s.unwrap();
    assert!(s
        .rejected
        .counts
        .contains_key(&crate::RejectReason::FutureTime));
}

const V: &str = "#Version: 1.0\n";
const F1: &str = "#Fields: date time c-ip cs-method cs-uri-stem sc-status\n";
const F2: &str = "#Fields: c-ip date time sc-status cs-method cs-uri-stem\n";

fn cf(n: usize, swapped: bool) -> String {
    (0..n)
        .map(|i| {
            let ip = format!("10.0.{}.{}", i / 200, i % 200);
            let t = format!("08:{:02}:{:02}", i / 60 % 60, i % 60);
            if swapped {
                format!("{ip}\t2026-11-02\t{t}\t200\tGET\t/s{i}\n")
            } else {
                format!("2026-11-02\t{t}\t{ip}\tGET\t/p{i}\t200\n")
            }
        })
        .collect()
}

#[test]
fn cloudfront_header_and_a_header_change_mid_file() {
    let opts = IngestOptions::default();
    // Garbage before the header, a header, data, a new header with other columns, data read
    // by it; CRLF endings; a bare `#` and blank lines.
    let text = format!(
        "garbage first line\n#\n\n{V}{F1}{}{F2}{}{F1}{}",
        cf(40, false),
        cf(30, true).replace('\n', "\r\n"),
        cf(5, false)
    );
    let (s, records) = same(text.as_bytes(), &opts, SIZES);
    let s = s.unwrap();
    assert_eq!(s.records, 75, "{:?}", s.rejected);
    assert_eq!(s.rejected.total(), 1);
    assert_eq!(s.rejected.samples[0].line, 1);
    assert!(records[41].contains("/s1\""), "{}", records[41]);
    let _ = same(&gzip(text.as_bytes()), &opts, &[1, 9, 100]);
    // The same swap read without its header: every swapped line is rejected, at its number.
    let headerless = format!("{}{}", cf(10, false), cf(10, true));
    let (h, _) = same(headerless.as_bytes(), &opts, SIZES);
    assert!(h.unwrap().rejected.total() >= 10);
}

#[test]
fn lines_over_the_cap_anywhere_and_longer_than_a_chunk() {
    let opts = IngestOptions {
        max_line_bytes: 70,
        ..IngestOptions::default()
    };
    let long = "x".repeat(500);
    let text = format!(
        "{long}\n{V}{F1}{}{long}\r\n{}{}\r\n{}{long}",
        cf(20, false),
        cf(3, false),
        "y".repeat(71),
        cf(2, false)
    );
    let (s, _) = same(text.as_bytes(), &opts, SIZES);
    let s = s.unwrap();
    assert_eq!(s.rejected.counts[&crate::RejectReason::LineTooLong], 4);
    let _ = same(&gzip(text.as_bytes()), &opts, &[1, 13, 4096]);
    // A line exactly at the cap with a CR, and one byte over it.
    let edge = format!("{V}{F1}{}\r\n{}\r\n", "z".repeat(70), "z".repeat(71));
    let _ = same(edge.as_bytes(), &opts, SIZES);
    // Cut inside a long line: the truncated count is the line's bytes so far.
    let gz = gzip(text.as_bytes());
    let _ = same(&gz[..gz.len() / 2], &opts, &[1, 50, 4096]);
}

#[test]
fn cap_parquet_invalid_utf8_and_an_unusable_format() {
    let text = format!("{V}{F1}{}", cf(50, false));
    let capped = IngestOptions {
        max_decoded_bytes: 700,
        ..IngestOptions::default()
    };
    let (s, _) = same(&gzip(text.as_bytes()), &capped, SIZES);
    assert!(s.unwrap().damage.unwrap().contains("cap"));
    let opts = IngestOptions::default();
    let (p, _) = same(b"PAR1\x00\x01\nabc\n\xff\xfe\n", &opts, SIZES);
    assert_eq!(p.unwrap().rejected.total(), 3);
    let bad = [
        &text.as_bytes()[..300],
        b"\xff\xfe\n",
        &text.as_bytes()[300..],
    ]
    .concat();
    let _ = same(&bad, &opts, SIZES);
    // ALB has no X-Forwarded-For: a configuration error, after any number of bad lines.
    let xff = IngestOptions {
        client_ip: ClientIpSource::ForwardedFor {
            trusted_proxies: 0,
            proxies: Default::default(),
        },
        ..IngestOptions::default()
    };
    let alb = loggen(GenFormat::Alb, 5);
    let junk = [&b"junk\n".repeat(100)[..], &alb].concat();
    let (e, _) = same(&junk, &xff, &[1, 64, 4096]);
    assert!(matches!(e, Err(IngestError::Unusable { .. })));
    let _ = same(b"", &opts, SIZES);
    let _ = same(b"\n", &opts, SIZES);
}

#[test]
fn the_tally_is_the_one_thread_tally() {
    let config = Config::default();
    let late = LateLines::default();
    let data = gzip(&loggen(GenFormat::Waf, 11));
    let want = read_object_with(&config, &config.source, &late, "w", &data[..]).unwrap();
    assert!(!want.1.profiles.is_empty() || want.1.records > 0);
    for chunk_bytes in [97, 4096, 1 << 16] {
        let par = Parallel {
            threads: 2,
            chunk_bytes,
        };
        let got = read_object_par_with(&config, &late, "w", &data[..], par).unwrap();
        assert_eq!(got.0, want.0);
        assert!(got.1 == want.1, "tally differs at chunk {chunk_bytes}");
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Any bytes (CloudFront-ish lines, headers, CRs, blank and over-long lines, invalid
    /// UTF-8), any chunk size and cap: the same result, and no panic.
    #[test]
    fn any_bytes_any_chunks(
        parts in proptest::collection::vec(proptest::sample::select(vec![
            V, F1, F2, "#\n", "\n", "\r\n", "2026-11-02\t08:00:01\t10.0.0.1\tGET\t/a\t200\n",
            "10.0.0.2\t2026-11-02\t08:00:02\t404\tGET\t/b\n", "xx", "\u{e9}", "\t",
        ]), 0..40),
        bad in proptest::collection::vec(0u8..=255, 0..4),
        max in 0usize..60,
        chunk_bytes in 1usize..40,
        threads in 2usize..4,
        zip in proptest::bool::ANY,
    ) {
        let mut data: Vec<u8> = parts.concat().into_bytes();
        let at = data.len() / 2;
        data.splice(at..at, bad);
        if zip {
            data = gzip(&data);
        }
        let opts = IngestOptions { max_line_bytes: max, ..IngestOptions::default() };
        let want = sequential(&data, &opts);
        let got = parallel(&data, &opts, Parallel { threads, chunk_bytes });
        proptest::prop_assert_eq!(got.0, want.0);
        proptest::prop_assert_eq!(got.1, want.1);
    }
}

#[test]
fn record_vectors_keep_their_allocation() {
    let mut v: Vec<Request<'_>> = Vec::with_capacity(100);
    let ip = "192.0.2.1".parse().unwrap();
    v.push(Request::minimal(1, ip));
    let ptr = v.as_ptr() as usize;
    let w: Vec<Request<'static>> = reuse(v);
    assert!(w.is_empty() && w.capacity() >= 100);
    assert_eq!(w.as_ptr() as usize, ptr);
}

/// A pretty-printed document whose kind is named only by a later line (`"httpRequest"` several
/// lines in): every chunk's rejections carry the kind the one-thread read gives them.
#[test]
fn a_pretty_printed_document_is_named_as_the_one_thread_read_names_it() {
    let doc = "{\n  \"timestamp\": 1,\n  \"formatVersion\": 1,\n  \"nothing\": \"yet\",\n  \"httpRequest\": {\n    \"clientIp\": \"192.0.2.1\"\n  }\n}\n";
    let opts = IngestOptions::default();
    let r = same(doc.as_bytes(), &opts, &[1, 3, 7, 16, 64]);
    let summary = r.0.expect("read");
    assert!(!summary.rejected.samples.is_empty());
    assert!(summary
        .rejected
        .samples
        .iter()
        .all(|s| s.detail.contains("WAF log record")));
}

/// Found by the read_log fuzz target: a line that opens a pretty-printed document (it ends
/// with `{`), a line naming it, then a line of a format floodgate reads: the one-thread read
/// starts that format there, so every chunk after it must too.
#[test]
fn a_format_that_starts_inside_a_document_starts_in_every_chunk_after_it() {
    let data = concat!(
        "{\"timestamp\":1682374606245,,\"httpVersion\":\"HTTP/1.1\"}}{\n",
        "\"timestamp\":1682374617200,\"cs(User-Agent)\":\"x\",\"c-ip\":\"01.0.1.10\"}\n",
        "{\"cs-method\":\"GET\",\"timestamp(ms)\":\"1793606400893\",\"c-ip\":\"192.0.2.1\",\"cs-uri-stem\":\"/\"}\n",
        "{\"cs-method\":\"GET\",\"timestamp(ms)\":\"1793606400894\",\"c-ip\":\"192.0.2.2\",\"cs-uri-stem\":\"/a\"}\n",
    );
    let r = same(
        data.as_bytes(),
        &IngestOptions::default(),
        &[1, 5, 9, 40, 100],
    );
    assert!(r.0.is_ok());
}
