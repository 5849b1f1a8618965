//! Ingestion over every format, every rejection reason, and damaged input.

use flate2::write::GzEncoder;
use flate2::Compression;
use floodgate_core::{read_log, ClientIpSource, FileSummary, IngestOptions, RejectReason};
use std::io::Write;
use std::net::IpAddr;

/// An owned copy of the fields a test looks at.
#[derive(Debug, Clone, PartialEq)]
struct Rec {
    time_ms: i64,
    client: IpAddr,
    method: String,
    host: String,
    path: String,
    query: String,
    status: Option<u16>,
    origin_status: Option<u16>,
    action: Option<String>,
    rule: Option<String>,
    country: Option<String>,
    ua: String,
    labels: Vec<String>,
}

fn read_with(data: &[u8], opts: IngestOptions) -> (FileSummary, Vec<Rec>) {
    let mut out = Vec::new();
    let summary = read_log("test.log", data, &opts, |r| {
        out.push(Rec {
            time_ms: r.time_ms,
            client: r.client,
            method: r.method.to_string(),
            host: r.host.to_string(),
            path: r.path.to_string(),
            query: r.query.to_string(),
            status: r.status,
            origin_status: r.origin_status,
            action: r.waf_action.as_deref().map(str::to_string),
            rule: r.terminating_rule.as_deref().map(str::to_string),
            country: r.country.as_deref().map(str::to_string),
            ua: r.user_agent.to_string(),
            labels: r.labels.iter().map(|l| l.to_string()).collect(),
        })
    })
    .unwrap();
    (summary, out)
}

fn read(data: &[u8]) -> (FileSummary, Vec<Rec>) {
    read_with(data, IngestOptions::default())
}

fn xff(n: u32) -> IngestOptions {
    IngestOptions {
        client_ip: ClientIpSource::ForwardedFor {
            trusted_proxies: n,
            proxies: Default::default(),
        },
        ..IngestOptions::default()
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn count(s: &FileSummary, r: RejectReason) -> u64 {
    s.rejected.counts.get(&r).copied().unwrap_or(0)
}

const WAF: &str = r#"{"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE","terminatingRuleId":"STMTest_SQLi_XSS","terminatingRuleType":"REGULAR","action":"BLOCK","terminatingRuleMatchDetails":[{"conditionType":"SQL_INJECTION","sensitivityLevel":"HIGH","location":"HEADER","matchedData":["10","AND","1"]}],"httpSourceName":"ALB","httpSourceId":"alb","ruleGroupList":[],"rateBasedRuleList":[{"rateBasedRuleId":"x","limitKey":"IP","maxRateAllowed":100,"evaluationWindowSec":"300"}],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,"httpRequest":{"clientIp":"1.1.1.1","country":"AU","headers":[{"name":"Host","value":"localhost:1989"},{"name":"User-Agent","value":"curl/7.61.1"},{"name":"Accept","value":"*/*"},{"name":"x-stm-test","value":"10 AND 1=1"},{"name":"X-Forwarded-For","value":"9.9.9.9, 8.8.8.8"}],"uri":"/myUri","args":"a=1","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"null"},"labels":[{"name":"awswaf:managed:aws:bot-control:bot:verified"},{"name":"x:y"}]}"#;

#[test]
fn waf_record_with_all_fields() {
    let (s, recs) = read(WAF.as_bytes());
    assert_eq!(s.format, Some(floodgate_core::formats::waf::FORMAT));
    assert_eq!(s.records, 1);
    assert!(s.complete);
    let r = &recs[0];
    assert_eq!(r.time_ms, 1576280412771);
    assert_eq!(r.client, "1.1.1.1".parse::<IpAddr>().unwrap());
    assert_eq!(
        (
            r.method.as_str(),
            r.host.as_str(),
            r.path.as_str(),
            r.query.as_str()
        ),
        ("GET", "localhost:1989", "/myUri", "a=1")
    );
    assert_eq!(r.action.as_deref(), Some("BLOCK"));
    assert_eq!(r.rule.as_deref(), Some("STMTest_SQLi_XSS"));
    assert_eq!(r.country.as_deref(), Some("AU"));
    assert_eq!(r.ua, "curl/7.61.1");
    assert_eq!(
        r.labels,
        vec!["awswaf:managed:aws:bot-control:bot:verified", "x:y"]
    );
    assert_eq!(r.status, None);
}

#[test]
fn waf_tolerates_nulls_missing_optional_fields_escapes_and_back_to_back_objects() {
    let lines = concat!(
        r#"{"timestamp":"1576280412771","action":null,"httpRequest":{"clientIp":"::ffff:2.2.2.2","country":null,"headers":null,"uri":"/a\/b\"c","httpMethod":"POST"},"labels":null,"responseCodeSent":429}"#,
        r#"{"timestamp":1576280412772,"httpRequest":{"clientIp":"2001:db8::1","headers":[{"name":"user-agent"},{"name":"HOST","value":"h"}]}}"#,
        "\n\n",
        r#"{"timestamp":1576280412773.0,"httpRequest":{"clientIp":"3.3.3.3"}}"#,
        "\n"
    );
    let (s, recs) = read(lines.as_bytes());
    assert_eq!(s.records, 3, "{:?}", s.rejected);
    assert_eq!(s.rejected.total(), 0);
    assert_eq!(recs[0].client, "2.2.2.2".parse::<IpAddr>().unwrap());
    assert_eq!(recs[0].path, "/a/b\"c");
    assert_eq!(recs[0].status, Some(429));
    assert_eq!(recs[1].client, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(recs[1].host, "h");
    assert_eq!(recs[2].time_ms, 1576280412773);
}

#[test]
fn waf_rejections_are_counted_by_reason() {
    let lines = [
        r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"1.1.1.1"}}"#, // good
        r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"1.2.3"}}"#,   // bad ip
        r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"fe80::1%eth0"}}"#,
        r#"{"httpRequest":{"clientIp":"1.1.1.1"}}"#, // missing time
        r#"{"timestamp":1576280412771}"#,            // missing httpRequest
        r#"{"timestamp":1576280412771,"httpRequest":{"country":"FR"}}"#, // missing clientIp
        r#"{"timestamp":5,"httpRequest":{"clientIp":"1.1.1.1"}}"#, // 1970
        r#"{"timestamp":32503680000000,"httpRequest":{"clientIp":"1.1.1.1"}}"#, // year 3000
        r#"{"timestamp":-1,"httpRequest":{"clientIp":"1.1.1.1"}}"#,
        r#"{"timestamp":"soon","httpRequest":{"clientIp":"1.1.1.1"}}"#, // bad json type
        r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"1.1.1.1"}"#, // unterminated
        r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"1.1.1.1"},"responseCodeSent":70000}"#,
    ];
    let (s, _) = read(lines.join("\n").as_bytes());
    assert_eq!(s.records, 1);
    assert_eq!(count(&s, RejectReason::BadIp), 2);
    assert_eq!(count(&s, RejectReason::MissingField), 3);
    assert_eq!(count(&s, RejectReason::BadTime), 4);
    assert_eq!(count(&s, RejectReason::BadJson), 1);
    assert_eq!(count(&s, RejectReason::BadValue), 1);
    assert_eq!(s.rejected.total() + s.records, lines.len() as u64);
    let sample = s
        .rejected
        .samples
        .iter()
        .find(|x| x.reason == RejectReason::BadIp)
        .unwrap();
    assert_eq!((sample.file.as_str(), sample.line), ("test.log", 2));
}

#[test]
fn deeply_nested_json_is_rejected_not_overflowed() {
    let mut line =
        String::from(r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"1.1.1.1"},"x":"#);
    line.push_str(&"[".repeat(10_000));
    line.push_str(&"]".repeat(10_000));
    line.push('}');
    // Deep nesting in a field floodgate skips is valid JSON: skipped without recursion.
    let (s, _) = read(line.as_bytes());
    assert_eq!(s.records, 1);
    // Deep nesting where a field is read is a type error, counted.
    let deep = format!(
        r#"{{"timestamp":1576280412771,"httpRequest":{{"clientIp":"1.1.1.1"}},"labels":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (s, _) = read(deep.as_bytes());
    assert_eq!(count(&s, RejectReason::BadJson), 1);
}

#[test]
fn waf_forwarded_for_selection() {
    let (_, recs) = read_with(WAF.as_bytes(), xff(0));
    assert_eq!(recs[0].client, "8.8.8.8".parse::<IpAddr>().unwrap());
    let (_, recs) = read_with(WAF.as_bytes(), xff(1));
    assert_eq!(recs[0].client, "9.9.9.9".parse::<IpAddr>().unwrap());
    let (s, recs) = read_with(WAF.as_bytes(), xff(2));
    assert!(recs.is_empty());
    assert_eq!(count(&s, RejectReason::NoForwardedIp), 1);
    let no_header =
        r#"{"timestamp":1576280412771,"httpRequest":{"clientIp":"1.1.1.1","headers":[]}}"#;
    let (s, _) = read_with(no_header.as_bytes(), xff(0));
    assert_eq!(count(&s, RejectReason::NoForwardedIp), 1);
}

const CF_HEADER: &str = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end\n";

fn cf_line(ip: &str, status: &str, ua: &str, xff: &str) -> String {
    format!("2019-12-04\t21:02:31\tLAX1\t392\t{ip}\tGET\td111111abcdef8.cloudfront.net\t/index.html\t{status}\t-\t{ua}\ta=b\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\twww.example.com\thttps\t23\t0.001\t{xff}\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-\n")
}

#[test]
fn cloudfront_maps_columns_by_fields_line() {
    let mut data = CF_HEADER.to_string();
    data.push_str(&cf_line(
        "192.0.2.100",
        "200",
        "Mozilla/5.0%20(Windows%20NT%2010.0)",
        "-",
    ));
    data.push_str(&cf_line("2001:db8::7", "000", "curl/7.0", "-").replace('\n', "\t\n")); // trailing tab
    let (s, recs) = read(gz(data.as_bytes()).as_slice());
    assert_eq!(s.format, Some(floodgate_core::formats::cloudfront::FORMAT));
    assert!(s.gzip);
    assert_eq!(s.records, 2, "{:?}", s.rejected);
    let r = &recs[0];
    assert_eq!(r.time_ms, 1_575_493_351_000);
    assert_eq!(r.host, "www.example.com");
    assert_eq!(
        (r.path.as_str(), r.query.as_str(), r.status),
        ("/index.html", "a=b", Some(200))
    );
    // CloudFront's own encoding is undone once: the user agent as the client sent it.
    assert_eq!(r.ua, "Mozilla/5.0 (Windows NT 10.0)");
    assert_eq!(recs[1].status, None);
    assert_eq!(recs[1].client, "2001:db8::7".parse::<IpAddr>().unwrap());
}

#[test]
fn cloudfront_older_shorter_header_and_rejections() {
    let old = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query\n";
    let mut data = old.to_string();
    data.push_str("2014-05-23\t01:13:11\tFRA2\t182\t192.0.2.10\tGET\td111111abcdef8.cloudfront.net\t/view/my/file.html\t200\twww.displaymyfiles.com\tMozilla/4.0%20(compatible;%20MSIE%205.0b1;%20Mac_PowerPC)\t-\n");
    data.push_str("2014-05-23\t01:13:11\tFRA2\n"); // too few columns
    data.push_str("2014-05-23\t25:13:11\tFRA2\t182\t192.0.2.10\tGET\th\t/\t200\t-\t-\t-\n"); // bad time
    data.push_str("2014-05-23\t01:13:11\tFRA2\t182\t192.0.2\tGET\th\t/\t200\t-\t-\t-\n"); // bad ip
    data.push_str("2014-05-23\t01:13:11\tFRA2\t182\t192.0.2.1\tGET\th\t/\tabc\t-\t-\t-\n"); // bad status
    let (s, recs) = read(data.as_bytes());
    assert_eq!(s.records, 1);
    assert_eq!(recs[0].host, "d111111abcdef8.cloudfront.net");
    assert_eq!(count(&s, RejectReason::WrongColumns), 1);
    assert_eq!(count(&s, RejectReason::BadTime), 1);
    assert_eq!(count(&s, RejectReason::BadIp), 1);
    assert_eq!(count(&s, RejectReason::BadValue), 1);
    // data before #Fields is read in the standard order: these 3 columns hold no c-ip
    let (s, _) = read(b"#Version: 1.0\n2014-05-23\t01:13:11\tFRA2\n");
    assert_eq!(count(&s, RejectReason::MissingField), 1);
    // a header without c-ip: each data line says which logging field to turn on
    let (s, _) = read(b"#Fields: date time cs-method\n2014-05-23\t01:13:11\tGET\n");
    assert_eq!(count(&s, RejectReason::MissingField), 1);
    assert!(s.rejected.samples[0].detail.contains("add the c-ip field"));
}

#[test]
fn cloudfront_forwarded_for_and_double_encoding() {
    let mut data = CF_HEADER.to_string();
    data.push_str(&cf_line("192.0.2.100", "200", "a%2520b", "203.0.113.9"));
    data.push_str(&cf_line("192.0.2.100", "200", "x", "-"));
    let (s, recs) = read_with(data.as_bytes(), xff(0));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].client, "203.0.113.9".parse::<IpAddr>().unwrap());
    // once by the parser (as sent: "a%20b"), once more for display (old files encode twice)
    assert_eq!(recs[0].ua, "a%20b");
    assert_eq!(floodgate_core::decode_for_display(&recs[0].ua), "a b");
    assert_eq!(count(&s, RejectReason::NoForwardedIp), 1);
}

const ALB: &str = r#"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/p/a?x=1 HTTP/1.1" "curl/7.46.0 \"quoted\"" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234"#;

#[test]
fn alb_fields_ipv6_and_waf_blocks() {
    let v6 = ALB.replace("192.168.131.39:2817", "2001:db8::1:54321");
    let blocked = ALB
        .replace(" 200 200 0 57 ", " 403 - 0 57 ")
        .replace("10.0.0.1:80 0.086 0.048 0.037", "- -1 -1 -1");
    let data = format!("{ALB}\n{v6}\n{blocked}\n");
    let (s, recs) = read(data.as_bytes());
    assert_eq!(s.format, Some(floodgate_core::formats::alb::FORMAT));
    assert_eq!(s.records, 3, "{:?}", s.rejected);
    let r = &recs[0];
    assert_eq!(r.time_ms, 1_530_570_180_186);
    assert_eq!(r.client, "192.168.131.39".parse::<IpAddr>().unwrap());
    assert_eq!(
        (
            r.method.as_str(),
            r.host.as_str(),
            r.path.as_str(),
            r.query.as_str()
        ),
        ("GET", "www.example.com", "/p/a", "x=1")
    );
    assert_eq!((r.status, r.origin_status), (Some(200), Some(200)));
    assert_eq!(r.ua, r#"curl/7.46.0 \"quoted\""#);
    assert_eq!(recs[1].client, "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!((recs[2].status, recs[2].origin_status), (Some(403), None));
}

#[test]
fn alb_rejections_and_forwarded_for_is_a_config_error() {
    let data = [
        ALB.replace("192.168.131.39:2817", "192.168.131.39"),
        ALB.replace("2018-07-02T22:23:00.186641Z", "yesterday"),
        ALB.replace(" 200 200 0 57 ", " abc 200 0 57 "),
        ALB.replace("\"GET https", "\"GET-unterminated https")
            .replace("HTTP/1.1\" ", "HTTP/1.1 "),
        "https 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:5".to_string(),
    ];
    let (s, _) = read(format!("{ALB}\n{}\n", data.join("\n")).as_bytes());
    assert_eq!(s.records, 1);
    assert_eq!(count(&s, RejectReason::BadIp), 1);
    assert_eq!(count(&s, RejectReason::BadTime), 1);
    assert_eq!(count(&s, RejectReason::BadValue), 2);
    assert_eq!(count(&s, RejectReason::WrongColumns), 1);
    let err = read_log("alb.log", ALB.as_bytes(), &xff(0), |_| {}).unwrap_err();
    assert!(err.to_string().contains("ALB logs have no X-Forwarded-For"));
}

/// A broken quote after the 14 fields floodgate reads cannot have shifted them (AWS's docs
/// once printed `"-"1`); one inside them can, and the line is rejected naming the field.
#[test]
fn alb_broken_quote_after_the_fields_read_keeps_the_record() {
    let late = ALB.replace("\"www.example.com\" ", "\"www.example.com\"");
    let early = ALB.replace("\" \"curl", "\"\"curl");
    let (s, recs) = read(format!("{late}\n{early}\n").as_bytes());
    assert_eq!(s.records, 1);
    assert_eq!(recs[0].ua, r#"curl/7.46.0 \"quoted\""#);
    assert_eq!(count(&s, RejectReason::BadValue), 1);
    assert!(
        s.rejected.samples[0].detail.contains("quoted field 13"),
        "{:?}",
        s.rejected
    );
}

#[test]
fn line_level_rejections_utf8_too_long_unknown() {
    let mut data = b"garbage first line\n".to_vec();
    data.extend_from_slice(WAF.as_bytes());
    data.push(b'\n');
    data.extend_from_slice(b"{\"timestamp\":1576280412771,\"x\":\"\xff\xfe\"}\n");
    data.extend_from_slice(&vec![b'{'; 5000]);
    data.push(b'\n');
    data.extend_from_slice(b"\0\0\0\n");
    let opts = IngestOptions {
        max_line_bytes: 4096,
        ..IngestOptions::default()
    };
    let (s, recs) = read_with(&data, opts);
    assert_eq!(recs.len(), 1);
    assert_eq!(s.format, Some(floodgate_core::formats::waf::FORMAT));
    assert_eq!(count(&s, RejectReason::UnknownFormat), 1);
    assert_eq!(count(&s, RejectReason::InvalidUtf8), 1);
    assert_eq!(count(&s, RejectReason::LineTooLong), 1);
    assert_eq!(count(&s, RejectReason::BadJson), 1);
    assert_eq!(s.lines, 5);
}

#[test]
fn multi_member_gzip_reads_every_member() {
    let mut data = gz(format!("{WAF}\n").as_bytes());
    data.extend(gz(format!("{WAF}\n{WAF}\n").as_bytes()));
    data.extend(gz(b""));
    data.extend(gz(format!("{WAF}\n").as_bytes()));
    let (s, _) = read(&data);
    assert_eq!(s.records, 4);
    assert!(s.complete);
    assert_eq!(s.bytes_in, data.len() as u64);
}

#[test]
fn truncated_gzip_keeps_what_was_read_and_marks_the_file() {
    let body: String = (0..20_000)
        .map(|i| WAF.replace("1576280412771", &(1576280412771i64 + i).to_string()) + "\n")
        .collect();
    let data = gz(body.as_bytes());
    let mut last_records = 0;
    for cut in [
        data.len() / 4,
        data.len() / 2,
        data.len() - 9,
        data.len() - 1,
    ] {
        let (s, recs) = read(&data[..cut]);
        assert!(!s.complete, "cut at {cut}");
        assert!(
            s.damage.as_deref().unwrap().contains("damaged"),
            "{:?}",
            s.damage
        );
        assert!(s.records >= last_records, "more input, not fewer records");
        assert!(s.records <= 20_000);
        // what was kept is exactly the first records, in order
        assert!(recs
            .iter()
            .enumerate()
            .all(|(i, r)| r.time_ms == 1576280412771 + i as i64));
        last_records = s.records;
    }
    assert!(last_records > 10_000);
    let (s, _) = read(&data[..data.len() / 4]);
    assert!(s.records < 20_000);
    // a gzip member cut inside its header
    let (s, _) = read(&data[..5]);
    assert!(!s.complete);
    assert_eq!(s.records, 0);
}

#[test]
fn decompressed_size_cap_stops_a_bomb_and_says_so() {
    let data = gz(&vec![b' '; 50_000_000]);
    let opts = IngestOptions {
        max_decoded_bytes: 1_000_000,
        ..IngestOptions::default()
    };
    let (s, _) = read_with(&data, opts);
    assert!(!s.complete);
    assert!(s.damage.unwrap().contains("cap"));
}

#[test]
fn random_bytes_never_panic() {
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for len in [0usize, 1, 2, 3, 10, 100, 1000, 10_000] {
        for _ in 0..20 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            let (s, _) = read(&bytes);
            let mut with_magic = vec![0x1f, 0x8b];
            with_magic.extend_from_slice(&bytes);
            let (t, _) = read(&with_magic);
            assert!(t.lines <= s.lines + 1 || !t.complete);
        }
    }
}

/// `[source] web_acls`: only the listed web ACL's records count, on the fast path and on the
/// serde path (a line with an escape) alike; a record without `webaclId` is foreign too.
#[test]
fn waf_records_of_other_web_acls_are_rejected() {
    let ours = "arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE";
    let theirs = WAF.replace("STMTest/1EXAMPLE", "Other/2EXAMPLE");
    let escaped = theirs.replace("curl/7.61.1", "curl\\/7.61.1");
    let no_id = WAF.replace(&format!("\"webaclId\":\"{ours}\","), "");
    let data = format!("{WAF}\n{theirs}\n{escaped}\n{no_id}\n");
    let opts = IngestOptions {
        web_acls: vec![ours.to_string()],
        ..IngestOptions::default()
    };
    let (s, recs) = read_with(data.as_bytes(), opts);
    assert_eq!(recs.len(), 1);
    assert_eq!(count(&s, RejectReason::OtherWebAcl), 3);
    assert!(s.rejected.samples[0].detail.contains("Other/2EXAMPLE"));
    let (all, _) = read(data.as_bytes());
    assert_eq!(all.records, 4, "no filter: every web ACL's records");
}

/// CloudFront v2 can deliver Parquet to S3: such an object is said to be Parquet, line by line,
/// plain or gzip'd, instead of thousands of `invalid_utf8` rejections that look like damage.
#[test]
fn a_parquet_object_is_rejected_as_parquet() {
    let mut data = b"PAR1\x15\x04\x15\xa0\x01\x15\xfe\x00\x4c\x15\x02\x15\x00\n".to_vec();
    data.extend_from_slice(b"\xff\xfe\x00\x01binary column chunk\n\n");
    data.extend_from_slice(&[0x9c; 300]);
    data.extend_from_slice(b"\x00\x00\x00\x10PAR1");
    for input in [data.clone(), gz(&data)] {
        let (s, recs) = read(&input);
        assert!(recs.is_empty());
        assert!(s.complete);
        assert_eq!(s.lines, 4);
        assert_eq!(count(&s, RejectReason::UnsupportedFormat), 4);
        assert_eq!(s.rejected.total(), 4);
        assert_eq!(s.format.map(|f| f.as_str()), Some("unsupported"));
        assert!(
            s.rejected.samples[0].detail.contains("Parquet"),
            "{:?}",
            s.rejected.samples[0]
        );
    }
    // "PAR1" later in a log is only text.
    let (s, _) = read(b"x\nPAR1\n");
    assert_eq!(count(&s, RejectReason::UnsupportedFormat), 0);
}
