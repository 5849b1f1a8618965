//! Hostile corpus: input an attacker (or a broken producer) could put in a log object. Each
//! case ends as a counted rejection or a correct record, in bounded time and memory, and the
//! valid lines around it still count. Cases already in `ingest.rs` (rejection reasons, deep
//! JSON in skipped/read fields, a single size cap, random bytes) are not repeated here.
//! Every test is fast in a debug build.
#![allow(unsafe_code)] // a tracking global allocator

use flate2::write::GzEncoder;
use flate2::Compression;
use floodgate_core::{read_log, FileSummary, IngestOptions, RejectReason};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::time::{Duration, Instant};

// ---- the largest single allocation made on this thread (memory bounds) ----

struct Tracking;
thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}
fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}
#[global_allocator]
static A: Tracking = Tracking;

/// Run `f`, returning its result, the largest single allocation it made, and its time.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    LARGEST.with(|l| l.set(0));
    let start = Instant::now();
    let out = f();
    (out, LARGEST.with(|l| l.get()), start.elapsed())
}

// ---- helpers ----

fn waf(t: i64, ip: &str) -> String {
    format!(
        r#"{{"timestamp":{t},"action":"ALLOW","httpRequest":{{"clientIp":"{ip}","uri":"/","httpMethod":"GET"}}}}"#
    )
}
const T: i64 = 1_800_000_000_000; // 2027-01-15

fn read_opts<R: Read>(input: R, opts: IngestOptions) -> (FileSummary, Vec<(i64, IpAddr, String)>) {
    let mut out = Vec::new();
    let s = read_log("hostile.log", input, &opts, |r| {
        out.push((r.time_ms, r.client, r.user_agent.to_string()))
    })
    .unwrap();
    assert_eq!(s.records, out.len() as u64);
    (s, out)
}

fn read(data: &[u8]) -> (FileSummary, Vec<(i64, IpAddr, String)>) {
    read_opts(data, IngestOptions::default())
}

fn count(s: &FileSummary, r: RejectReason) -> u64 {
    s.rejected.counts.get(&r).copied().unwrap_or(0)
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Every line is a record or a counted rejection (no blank or header lines in these inputs).
fn all_accounted(s: &FileSummary) {
    assert_eq!(
        s.records + s.rejected.total(),
        s.lines,
        "{:?}",
        s.rejected.counts
    );
}

// ---- damaged gzip ----

#[test]
fn gzip_truncated_at_every_offset_keeps_a_prefix_and_says_so() {
    let body: String = (0..40).map(|i| waf(T + i, "192.0.2.1") + "\n").collect();
    let half = body.len() / 2;
    let mut two = gz(&body.as_bytes()[..half]);
    let boundary = two.len();
    two.extend(gz(&body.as_bytes()[half..]));
    let (whole, recs) = read(&two);
    assert!(whole.complete && whole.records == 40);
    for cut in 0..two.len() {
        let (s, got) = read(&two[..cut]);
        assert!(s.records <= whole.records, "cut {cut}");
        assert_eq!(got[..], recs[..got.len()], "cut {cut}: not a prefix");
        match cut {
            // nothing, or one byte that is not yet the gzip magic: a plain (tiny) file
            0 | 1 => assert!(s.complete),
            // a cut exactly between two members is a shorter valid file
            _ if cut == boundary => assert!(s.complete && s.records < 40),
            _ => {
                assert!(!s.complete, "cut {cut} of {}", two.len());
                assert!(s.damage.as_deref().unwrap().contains("damaged"));
            }
        }
        // the partial last line is counted as truncated, never parsed as a record
        assert!(s.records + s.rejected.total() <= s.lines + 1);
    }
}

#[test]
fn corrupt_bytes_inside_a_gzip_member_stop_the_file_not_the_run() {
    let body: String = (0..2000).map(|i| waf(T + i, "192.0.2.1") + "\n").collect();
    let good = gz(body.as_bytes());
    for at in [12, good.len() / 3, good.len() / 2, good.len() - 6] {
        let mut bad = good.clone();
        bad[at] ^= 0x55;
        let (s, _) = read(&bad);
        assert!(!s.complete, "flip at {at}");
        assert!(s.records < 2000 || s.damage.is_some());
    }
}

/// Repeats one gzip member `times` times without holding more than one copy.
struct RepeatMember {
    member: Vec<u8>,
    pos: usize,
    left: u64,
}
impl Read for RepeatMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = buf.len().min(self.member.len() - self.pos);
        buf[..n].copy_from_slice(&self.member[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.member.len() {
            self.pos = 0;
            self.left -= 1;
        }
        Ok(n)
    }
}

#[test]
fn multi_member_gzip_bomb_stops_at_the_cap_in_bounded_time_and_memory() {
    // One member: 10 MiB of blank lines (999 spaces and a newline) in ~10 KB; 1000 of them
    // = 10 GiB virtual from a few tens of MB of input.
    let mut blank = vec![b' '; 1000];
    blank[999] = b'\n';
    let member = gz(&blank.repeat((10 << 20) / 1000));
    assert!(member.len() < 64 << 10, "{}", member.len());
    let bomb = RepeatMember {
        member,
        pos: 0,
        left: 1000,
    };
    let cap = 24 << 20;
    let opts = IngestOptions {
        max_decoded_bytes: cap,
        ..IngestOptions::default()
    };
    let ((s, _), largest, took) = measured(|| read_opts(bomb, opts));
    assert!(!s.complete);
    let damage = s.damage.unwrap();
    assert!(
        damage.contains("cap") && damage.contains(&cap.to_string()),
        "{damage}"
    );
    assert!(s.bytes_decoded <= cap);
    assert!(s.bytes_in < 1 << 20, "read {} compressed bytes", s.bytes_in);
    assert!(largest < 4 << 20, "largest allocation {largest}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

// ---- giant and odd lines ----

/// A valid line, then `len` bytes of `x` without a newline, then a newline and a valid line:
/// produced on the fly, never held.
struct GiantLine {
    head: Vec<u8>,
    len: u64,
    tail: Vec<u8>,
    pos: u64,
}
impl Read for GiantLine {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (h, g) = (self.head.len() as u64, self.len);
        let total = h + g + self.tail.len() as u64;
        if self.pos >= total {
            return Ok(0);
        }
        let n = if self.pos < h {
            let src = &self.head[self.pos as usize..];
            let n = src.len().min(buf.len());
            buf[..n].copy_from_slice(&src[..n]);
            n
        } else if self.pos < h + g {
            let n = ((h + g - self.pos) as usize).min(buf.len());
            buf[..n].fill(b'x');
            n
        } else {
            let src = &self.tail[(self.pos - h - g) as usize..];
            let n = src.len().min(buf.len());
            buf[..n].copy_from_slice(&src[..n]);
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

#[test]
fn a_100_mb_line_is_skipped_unbuffered_and_later_lines_still_count() {
    let giant = GiantLine {
        head: format!("{}\n", waf(T, "192.0.2.1")).into_bytes(),
        len: 100 << 20,
        tail: format!(
            "\n{}\n{}\n",
            waf(T + 1, "192.0.2.2"),
            waf(T + 2, "192.0.2.3")
        )
        .into_bytes(),
        pos: 0,
    };
    let ((s, recs), largest, took) = measured(|| read_opts(giant, IngestOptions::default()));
    assert!(s.complete);
    assert_eq!((s.records, s.lines), (3, 4));
    assert_eq!(count(&s, RejectReason::LineTooLong), 1);
    assert_eq!(recs[2].1, "192.0.2.3".parse::<IpAddr>().unwrap());
    let sample = &s.rejected.samples[0];
    assert_eq!((sample.line, sample.reason), (2, RejectReason::LineTooLong));
    assert!(sample.detail.starts_with(&(100u64 << 20).to_string()));
    assert!(largest < 4 << 20, "largest allocation {largest}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn deep_nesting_anywhere_is_one_rejection() {
    let deep = |open: &str, close: &str| format!("{}{}", open.repeat(10_000), close.repeat(10_000));
    let lines = [
        waf(T, "192.0.2.1"),
        deep("[", "]"), // not an object at all, in a WAF file
        format!(
            r#"{{"timestamp":{T},"httpRequest":{}}}"#,
            deep(r#"{"a":"#, "}")
        ),
        format!(
            r#"{{"timestamp":{T},"httpRequest":{{"clientIp":"192.0.2.1","headers":{}}}}}"#,
            deep("[", "]")
        ),
        deep("{\"a\":", "}"),
        waf(T + 1, "192.0.2.2"),
    ];
    let (s, _) = read(lines.join("\n").as_bytes());
    assert_eq!(s.records, 2);
    // bad JSON where a field is read; a missing field where deep values are skipped
    assert_eq!(s.rejected.total(), 4, "{:?}", s.rejected.counts);
    assert!(count(&s, RejectReason::BadJson) >= 2);
    all_accounted(&s);
}

#[test]
fn random_garbage_lines_between_valid_lines_do_not_hide_them() {
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut data = Vec::new();
    for i in 0..300 {
        data.extend_from_slice(waf(T + i, "198.51.100.7").as_bytes());
        data.push(b'\n');
        let len = (x % 300) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 32) as u8;
            // no newline (one garbage line) and no '{' first (else it is a WAF line, fine too)
            data.push(if b == b'\n' { b' ' } else { b });
        }
        data.push(b'\n');
    }
    let (s, _) = read(&data);
    assert_eq!(s.records, 300);
    let blank = s.lines - s.records - s.rejected.total();
    assert!(
        blank < 10,
        "only empty garbage lines may be silent: {blank}"
    );
}

#[test]
fn nul_bytes_and_invalid_utf8_in_each_format() {
    let cf =
        "#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)\n";
    let cfj = |uri: &str| {
        format!(
            r#"{{"timestamp(ms)":"{T}","c-ip":"192.0.2.1","cs-method":"GET","cs-uri-stem":"{uri}","sc-status":"200"}}"#
        )
        .into_bytes()
    };
    let cases: [(&str, Vec<u8>); 4] = [
        (
            "cloudfront-json",
            [
                cfj("/"),
                cfj("/a\0b"),
                cfj("/a\\u0000b"),
                b"\0\0\0\0".to_vec(),
                // An invalid UTF-8 byte in the path.
                cfj("/@")
                    .into_iter()
                    .map(|b| if b == b'@' { 0xff } else { b })
                    .collect(),
            ]
            .join(&b'\n'),
        ),
        (
            "waf",
            [
                waf(T, "192.0.2.1").into_bytes(),
                b"{\"timestamp\":1800000000000,\"httpRequest\":{\"clientIp\":\"192.0.2.1\",\"uri\":\"/a\0b\"}}".to_vec(),
                format!(r#"{{"timestamp":{T},"httpRequest":{{"clientIp":"192.0.2.1","uri":"/a\u0000b"}}}}"#).into_bytes(),
                b"\0\0\0\0".to_vec(),
                b"{\"timestamp\":1800000000000,\"httpRequest\":{\"clientIp\":\"192.0.2.1\",\"uri\":\"/\xc3\x28\"}}".to_vec(),
            ]
            .join(&b'\n'),
        ),
        (
            "cloudfront",
            [
                format!("{cf}2027-01-15\t08:00:00\t192.0.2.1\tGET\t/\t200\tok").into_bytes(),
                b"2027-01-15\t08:00:00\t192.0.2.1\tGET\t/a\0b\t200\tua\0x".to_vec(),
                b"2027-01-15\t08:00:00\t192.0.2.1\0\tGET\t/\t200\tua".to_vec(),
                b"\0\0\0\0".to_vec(),
                b"2027-01-15\t08:00:00\t192.0.2.1\tGET\t/\xff\t200\tua".to_vec(),
            ]
            .join(&b'\n'),
        ),
        (
            "alb",
            [
                b"http 2027-01-15T08:00:00.000000Z app/x 192.0.2.1:443 - -1 -1 -1 200 - 0 0 \"GET http://h/ HTTP/1.1\" \"ok\"".to_vec(),
                b"http 2027-01-15T08:00:00.000000Z app/x 192.0.2.1:443 - -1 -1 -1 200 - 0 0 \"GET http://h/a\0b HTTP/1.1\" \"u\0a\"".to_vec(),
                b"http 2027-01-15T08:00:00.000000Z app/x 192.0.2.1\0:443 - -1 -1 -1 200 - 0 0 \"GET http://h/ HTTP/1.1\" \"ua\"".to_vec(),
                b"\0\0\0\0".to_vec(),
                b"http 2027-01-15T08:00:00.000000Z app/x 192.0.2.1:443 - -1 -1 -1 200 - 0 0 \"GET http://h/\xfe HTTP/1.1\" \"ua\"".to_vec(),
            ]
            .join(&b'\n'),
        ),
    ];
    for (name, data) in cases {
        let (s, _) = read(&data);
        // WAF: a raw NUL in a JSON string is invalid JSON, the escaped \u0000 is a record.
        // CloudFront/ALB: a NUL inside a free-text field is data (a record); in the IP it is a
        // bad IP; a line of NULs is not a log line.
        assert_eq!(s.records, 2, "{name}: {:?}", s.rejected.counts);
        assert_eq!(count(&s, RejectReason::InvalidUtf8), 1, "{name}");
        assert_eq!(
            s.records + s.rejected.total() + 2 * (name == "cloudfront") as u64,
            s.lines,
            "{name}"
        );
        for sample in &s.rejected.samples {
            assert!(
                !sample.excerpt.contains('\0'),
                "{name}: NUL in a report excerpt"
            );
        }
    }
}

// ---- addresses, times, numbers ----

fn cf_file(lines: &[(&str, &str, &str)]) -> String {
    let mut out =
        String::from("#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n");
    for (date_time, ip, status) in lines {
        let (d, t) = date_time.split_once(' ').unwrap();
        out.push_str(&format!("{d}\t{t}\t{ip}\tGET\t/\t{status}\n"));
    }
    out
}

fn alb_line(time: &str, client: &str, status: &str) -> String {
    format!("https {time} app/x {client} 10.0.0.1:80 -1 -1 -1 {status} - 0 0 \"GET https://h:443/ HTTP/1.1\" \"ua\"")
}

#[test]
fn odd_addresses_in_every_format() {
    let mapped: IpAddr = "1.2.3.4".parse().unwrap();
    // WAF
    let w = [
        waf(T, "1.2.3"),
        waf(T, "::ffff:1.2.3.4"),
        waf(T, "fe80::1%eth0"),
        waf(T, "[::1]"),
        waf(T, "::FFFF:1.2.3.4"),
    ];
    let (s, recs) = read(w.join("\n").as_bytes());
    assert_eq!(
        recs.iter().map(|r| r.1).collect::<Vec<_>>(),
        [mapped, "::1".parse().unwrap(), mapped]
    );
    assert_eq!(count(&s, RejectReason::BadIp), 2);
    // CloudFront
    let t = "2027-01-15 08:00:00";
    let c = cf_file(&[
        (t, "1.2.3", "200"),
        (t, "::ffff:1.2.3.4", "200"),
        (t, "fe80::1%eth0", "200"),
        (t, "-", "200"),
    ]);
    let (s, recs) = read(c.as_bytes());
    assert_eq!(recs.iter().map(|r| r.1).collect::<Vec<_>>(), [mapped]);
    assert_eq!(count(&s, RejectReason::BadIp), 2);
    assert_eq!(
        count(&s, RejectReason::MissingField),
        1,
        "c-ip \"-\" is no address"
    );
    // ALB (client:port, IPv6 unbracketed)
    let at = "2027-01-15T08:00:00.000000Z";
    let a = [
        alb_line(at, "1.2.3:80", "200"),
        alb_line(at, "::ffff:1.2.3.4:80", "200"),
        alb_line(at, "fe80::1%eth0:80", "200"),
        alb_line(at, "1.2.3.4", "200"),
    ];
    let (s, recs) = read(a.join("\n").as_bytes());
    assert_eq!(recs.iter().map(|r| r.1).collect::<Vec<_>>(), [mapped]);
    assert_eq!(count(&s, RejectReason::BadIp), 3);
}

#[test]
fn times_outside_2000_to_2100_and_negative_numbers() {
    // CloudFront: 1970, 3000, a negative status
    let c = cf_file(&[
        ("1970-01-01 00:00:00", "192.0.2.1", "200"),
        ("3000-01-01 00:00:00", "192.0.2.1", "200"),
        ("2027-01-15 08:00:00", "192.0.2.1", "-200"),
        ("-2027-01-15 08:00:00", "192.0.2.1", "200"),
        ("2027-01-15 08:00:00", "192.0.2.1", "200"),
    ]);
    let (s, _) = read(c.as_bytes());
    assert_eq!(
        (
            s.records,
            count(&s, RejectReason::BadTime),
            count(&s, RejectReason::BadValue)
        ),
        (1, 3, 1)
    );
    // ALB: the same, and negative processing times (-1 is what ALB writes: valid)
    let a = [
        alb_line("1970-01-01T00:00:00.000000Z", "192.0.2.1:1", "200"),
        alb_line("3000-01-01T00:00:00.000000Z", "192.0.2.1:1", "200"),
        alb_line("2027-01-15T08:00:00.000000Z", "192.0.2.1:1", "-403"),
        alb_line("2027-01-15T08:00:00.000000Z", "192.0.2.1:1", "200"),
    ];
    let (s, _) = read(
        format!(
            "{}\n{}",
            alb_line("2027-01-15T08:00:00Z", "192.0.2.1:1", "200"),
            a.join("\n")
        )
        .as_bytes(),
    );
    assert_eq!(
        (
            s.records,
            count(&s, RejectReason::BadTime),
            count(&s, RejectReason::BadValue)
        ),
        (2, 2, 1)
    );
    // WAF: negative or huge numbers where numbers are read
    let w = [
        format!(
            r#"{{"timestamp":{T},"responseCodeSent":-1,"httpRequest":{{"clientIp":"192.0.2.1"}}}}"#
        ),
        format!(r#"{{"timestamp":-{T},"httpRequest":{{"clientIp":"192.0.2.1"}}}}"#),
        r#"{"timestamp":1e300,"httpRequest":{"clientIp":"192.0.2.1"}}"#.to_string(),
        r#"{"timestamp":-99999999999999999999999,"httpRequest":{"clientIp":"192.0.2.1"}}"#
            .to_string(),
        format!(r#"{{"timestamp":"{T}","httpRequest":{{"clientIp":"192.0.2.1"}}}}"#), // string: fine
    ];
    let (s, _) = read(w.join("\n").as_bytes());
    assert_eq!(s.records, 1, "{:?}", s.rejected.counts);
    assert_eq!(s.rejected.total(), 4);
    assert_eq!(count(&s, RejectReason::BadValue), 1);
}

#[test]
fn control_characters_and_html_in_headers_are_kept_as_data_and_cleaned_in_samples() {
    let ua = r#"<script>alert(1)</script>\u0007\u001b[31m\r\n<img src=x onerror=alert(2)>"#;
    let good = format!(
        r#"{{"timestamp":{T},"httpRequest":{{"clientIp":"192.0.2.9","headers":[{{"name":"User-Agent","value":"{ua}"}},{{"name":"Host","value":"<b>h</b>"}}]}}}}"#
    );
    let bad = format!(
        r#"{{"timestamp":{T},"httpRequest":{{"clientIp":"<script>\u001b","headers":[{{"name":"User-Agent","value":"{ua}"}}]}}}}"#
    );
    let (s, recs) = read(format!("{good}\n{bad}\n").as_bytes());
    assert_eq!(s.records, 1);
    // The record keeps the attacker's bytes exactly (escaping is the renderers' job)…
    assert_eq!(
        recs[0].2,
        "<script>alert(1)</script>\u{7}\u{1b}[31m\r\n<img src=x onerror=alert(2)>"
    );
    // …and a rejected line's excerpt carries no control characters into reports.
    let sample = &s.rejected.samples[0];
    assert_eq!(sample.reason, RejectReason::BadIp);
    assert!(!sample.excerpt.chars().any(|c| c.is_control() && c != '\t'));
    assert!(
        !sample.detail.chars().any(|c| c.is_control()),
        "{:?}",
        sample.detail
    );
}
