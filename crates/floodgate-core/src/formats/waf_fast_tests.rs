//! Differential test of the WAF fast path: for every line, `parse_line` (fast path with serde
//! fallback) and `parse_line_serde` (serde only) give identical requests and identical
//! rejections — on generated logs and on hostile variants of them.

use super::*;
use floodgate_loggen::{generate, Compression, Format, Options, Scenario};
use std::io::BufRead;

type Outcome<'a> = (Vec<Request<'a>>, Result<(), Reject>);

fn both<'a>(line: &'a str, client: &ClientIpSource) -> (Outcome<'a>, Outcome<'a>) {
    let mut fast = Vec::new();
    let rf = parse_line(line, client, &mut |r| fast.push(r));
    let mut slow = Vec::new();
    let rs = parse_line_serde(line, client, &[], &mut |r| slow.push(r));
    ((fast, rf), (slow, rs))
}

fn clients() -> [ClientIpSource; 4] {
    let proxies = crate::client_ip::Proxies::new(vec!["0.0.0.0/1".parse().unwrap()]);
    [
        ClientIpSource::Source,
        ClientIpSource::ForwardedFor {
            trusted_proxies: 0,
            proxies: Default::default(),
        },
        ClientIpSource::ForwardedFor {
            trusted_proxies: 1,
            proxies: Default::default(),
        },
        ClientIpSource::ForwardedFor {
            trusted_proxies: 0,
            proxies,
        },
    ]
}

fn check(line: &str) {
    for client in &clients() {
        let (fast, slow) = both(line, client);
        assert_eq!(fast, slow, "{client:?} line: {line}");
    }
}

fn loggen_lines(seed: u64) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("floodgate-wafdiff-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = Options {
        scenario: Scenario::Mixed,
        formats: vec![Format::Waf],
        seed,
        duration_ms: 20 * 60_000,
        users: 300,
        bad_lines: true,
        compression: Compression::None,
        ..Options::default()
    };
    let m = generate(&opts, &dir).unwrap();
    let mut lines = Vec::new();
    for f in &m.files {
        let file = std::fs::File::open(dir.join(&f.path)).unwrap();
        for l in std::io::BufReader::new(file).split(b'\n') {
            // Lines with invalid UTF-8 never reach the parser.
            if let Ok(s) = String::from_utf8(l.unwrap()) {
                lines.push(s);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    lines
}

#[test]
fn fast_path_equals_serde_on_generated_logs_and_takes_nearly_all_lines() {
    let lines = loggen_lines(7);
    assert!(lines.len() > 1000, "{}", lines.len());
    let mut taken = 0;
    for line in &lines {
        check(line);
        taken += fast::scan(line).is_some() as usize;
    }
    // Only the planted bad lines may miss the fast path.
    assert!(
        taken * 100 >= lines.len() * 99,
        "{taken} of {}",
        lines.len()
    );
}

/// A tiny deterministic generator for the mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Insert at a character boundary.
fn insert_at(line: &str, at: usize, what: &str) -> String {
    let mut at = at.min(line.len());
    while !line.is_char_boundary(at) {
        at -= 1;
    }
    format!("{}{}{}", &line[..at], what, &line[at..])
}

const PIECES: [&str; 24] = [
    "{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\t", "0", "-", "1e5", ".", "null", "true", "é",
    "\\\"", "\\u0041", "\\/", "x", "\u{1}", "01", "fals",
];

const SWAPS: &[(&str, &str)] = &[
    ("\"timestamp\":", "\"timestamp\":\"1793606400402\",\"x\":"),
    ("\"timestamp\":", "\"timestamp\":-1,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":1.5e12,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":1e400,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":99999999999999999999,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":1793606400402.0,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":null,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":{},\"x\":"),
    ("\"timestamp\":", "\"timestamp\":0,\"x\":"),
    ("\"timestamp\":", "\"timestamp\":1,\"timestamp\":"),
    ("\"action\":", "\"action\":\"BLOCK\",\"action\":"),
    ("\"action\":", "\"action\":7,\"y\":"),
    ("\"action\":", "\"action\":null,\"y\":"),
    ("\"httpRequest\":", "\"httpRequest\":null,\"z\":"),
    ("\"httpRequest\":", "\"httpRequest\":[],\"z\":"),
    ("\"clientIp\":", "\"clientIp\":null,\"q\":"),
    ("\"clientIp\":", "\"clientIp\":\"::ffff:1.2.3.4\",\"clientIp\":"),
    ("\"headers\":", "\"headers\":null,\"h\":"),
    ("\"headers\":[", "\"headers\":[{\"name\":\"X-Forwarded-For\",\"value\":\"6.6.6.6, 7.7.7.7\"},{\"name\":\"HOST\",\"value\":\"evil\"},{\"value\":\"v\"},{\"name\":null,\"value\":\"n\"},"),
    ("\"headers\":[", "\"headers\":[null,"),
    ("\"headers\":[", "\"headers\":[{\"name\":\"Host\",\"name\":\"Host\",\"value\":\"x\"},"),
    ("\"labels\":[", "\"labels\":[{\"name\":null},{\"other\":1},{\"name\":\"a\",\"x\":[1,{\"y\":[]}]},"),
    ("\"labels\":", "\"labels\":null,\"l\":"),
    ("\"labels\":", "\"labels\":{},\"l\":"),
    ("\"responseCodeSent\":", "\"responseCodeSent\":70000,\"r\":"),
    ("\"responseCodeSent\":", "\"responseCodeSent\":\"403\",\"r\":"),
    ("\"responseCodeSent\":", "\"responseCodeSent\":403,\"r\":"),
    ("Mozilla", "Moz\\u0069lla \\\"quoted\\\""),
    ("\"uri\":\"", "\"uri\":\"/caf\u{e9}/\u{1F600}"),
    ("\"ja3Fingerprint\":", "\"ja3Fingerprint\":7,\"j\":"),
    ("\"ja3Fingerprint\":", "\"ja3Fingerprint\":null,\"j\":"),
    ("\"ja3Fingerprint\":", "\"ja3Fingerprint\":[\"a\"],\"j\":"),
    ("\"ja3Fingerprint\":", "\"ja3Fingerprint\":\"a\",\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"ja4Fingerprint\":\"t13d\\u0031516h2\",\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"ja4Fingerprint\":\"\",\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"challengeResponse\":{\"responseCode\":405,\"solveTimestamp\":0,\"failureReason\":\"TOKEN_MISSING\"},\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"challengeResponse\":{\"responseCode\":\"405\",\"solveTimestamp\":-1,\"failureReason\":5},\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"challengeResponse\":{\"responseCode\":70000,\"failureReason\":\"\",\"x\":{\"y\":[1]}},\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"challengeResponse\":{\"responseCode\":1,\"responseCode\":2},\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"challengeResponse\":[1],\"captchaResponse\":\"x\",\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"captchaResponse\":{},\"challengeResponse\":null,\"ja3Fingerprint\":"),
    ("\"ja3Fingerprint\":", "\"captchaResponse\":{\"solveTimestamp\":1632420429,\"failureReason\":\"TOKEN_\\u0045XPIRED\"},\"ja3Fingerprint\":"),
    ("\"headers\":[", "\"headers\":[{\"name\":\"Accept-Language\"},{\"name\":\"sec-fetch-mode\",\"value\":null},{\"name\":\"X-Custom\",\"value\":\"1\"},"),
    ("{\"timestamp\"", "{\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],\"timestamp\""),
];

#[test]
fn fast_path_equals_serde_on_hostile_variants() {
    let lines = loggen_lines(11);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (n, line) in lines.iter().enumerate().step_by(7).take(600) {
        // Byte-level damage.
        for _ in 0..6 {
            let at = rng.below(line.len() + 1);
            let piece = PIECES[rng.below(PIECES.len())];
            check(&insert_at(line, at, piece));
            let mut cut = rng.below(line.len() + 1);
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            check(&line[..cut]);
            let mut del = String::from(line.as_str());
            let mut d = rng.below(line.len());
            while !del.is_char_boundary(d) {
                d -= 1;
            }
            if d < del.len() {
                del.remove(d);
            }
            check(&del);
        }
        // Structural changes the fast path must either read like serde or hand over.
        for (from, to) in SWAPS {
            check(&line.replacen(from, to, 1));
        }
        check(&format!("{line}{line}"));
        check(&format!("{line} {line}"));
        check(&format!("  {line}  "));
        check(&format!("\t{line}\r"));
        check(&format!("{line},"));
        if n % 70 == 0 {
            // Every truncation point of a few lines.
            for cut in (0..=line.len()).filter(|&c| line.is_char_boundary(c)) {
                check(&line[..cut]);
            }
        }
    }
    for odd in [
        "{}",
        "{ }",
        "[]",
        "null",
        "{\"timestamp\":1793606400402}",
        "{\"timestamp\":1793606400402,\"httpRequest\":{\"clientIp\":\"1.2.3.4\"}}",
        "{\"timestamp\":1793606400402,\"httpRequest\":{\"clientIp\":\"1.2.3.4\"},}",
        "{\"timestamp\":1793606400402 ,\"httpRequest\" : {\"clientIp\" :\"1.2.3.4\" } } ",
        "{\"timestamp\":01,\"httpRequest\":{\"clientIp\":\"1.2.3.4\"}}",
        "{\"timestamp\":1793606400402,\"httpRequest\":{\"clientIp\":\"1.2.3.4:80\",\"x\":-0.5e-3}}",
        "{\"timestamp\":1793606400402,\"httpRequest\":{\"clientIp\":\"1.2.3.4\",\"x\":-}}",
        "{\"timestamp\":1793606400402,\"httpRequest\":{\"clientIp\":\"1.2.3.4\",\"x\":1.}}",
        "{\"timestamp\":1793606400402,\"httpRequest\":{\"clientIp\":\"1.2.3.4\",\"x\":tru}}",
        "{\"timestamp\":4102444800001,\"httpRequest\":{\"clientIp\":\"1.2.3.4\"}}",
    ] {
        check(odd);
    }
}

/// The features of "Floods no single address makes", read by both paths alike and borrowed.
#[test]
fn features_are_read_without_copies() {
    use crate::features::{TokenFailure, Verdict};
    let line = concat!(
        r#"{"timestamp":1793606400402,"action":"CHALLENGE","httpRequest":{"clientIp":"1.2.3.4","#,
        r#""headers":[{"name":"Host","value":"a"},{"name":"user-agent","value":"curl/8.5.0"},"#,
        r#"{"name":"Sec-Fetch-Mode","value":"navigate"},{"name":"X-Thing","value":"1"},{"name":"Accept-Language"}],"#,
        r#""uri":"/search"},"ja3Fingerprint":"773906b0efdefa24a7f2b8eb6985bf37","#,
        r#""ja4Fingerprint":"t13d1516h2_8daaf6152771_02713d6af862","#,
        r#""challengeResponse":{"responseCode":405,"solveTimestamp":0,"failureReason":"TOKEN_MISSING"}}"#
    );
    check(line);
    let mut out = Vec::new();
    parse_line(line, &ClientIpSource::Source, &mut |r| out.push(r)).unwrap();
    let r = &out[0];
    assert!(matches!(
        r.ja3,
        Some(Cow::Borrowed("773906b0efdefa24a7f2b8eb6985bf37"))
    ));
    assert!(matches!(
        r.ja4,
        Some(Cow::Borrowed("t13d1516h2_8daaf6152771_02713d6af862"))
    ));
    let names: Vec<&str> = r.header_names.names().collect();
    assert_eq!(
        names,
        ["host", "user-agent", "accept-language", "sec-fetch-mode"]
    );
    assert_eq!(r.header_names.others, 1);
    let c = r.challenge.unwrap();
    assert_eq!(
        (c.response_code, c.failure),
        (405, Some(TokenFailure::Missing))
    );
    assert!(c.terminated() && r.captcha.is_none());
    assert_eq!(r.verdict(), Verdict::Challenged);
    assert!(!r.verdict().reached_origin());
    assert_eq!(r.ua_class().to_string(), "curl 8");
}
