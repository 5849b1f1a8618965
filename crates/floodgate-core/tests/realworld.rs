//! Logs written by other projects and by AWS documentation (`../shared/realworld/`), read as
//! floodgate reads any object.
//!
//! Each file has a row below: the format it must be detected as, how many records it yields
//! and why every other line is rejected, with a word the rejection's detail must contain so
//! the reason a person reads is the true one (an NLB line says NLB, not "bad value"). Where
//! the source project published its own parse (`*.expected.tsv`), every record is compared
//! with it field by field. A file in the directory without a row fails the test, so a new
//! sample is looked at rather than passed over.
//!
//! The directory is outside the repository (it must not be copied in). Without it the test
//! says so and passes, except under `CI=true`, where a missing directory is a failure.

mod common;

use floodgate_core::{read_log, FileSummary, IngestOptions, RejectReason};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use RejectReason::{BadIp, MissingField, UnsupportedFormat, WrongColumns};

/// What one file must produce.
struct Expect {
    file: &'static str,
    format: &'static str,
    records: u64,
    /// Every rejection: reason, count, a word each sample's detail contains.
    rejected: &'static [(RejectReason, u64, &'static str)],
}

const fn ok(file: &'static str, format: &'static str, records: u64) -> Expect {
    Expect {
        file,
        format,
        records,
        rejected: &[],
    }
}

const EXPECT: &[Expect] = &[
    // WAF. The AWS solution's test data anonymises six addresses as the literal "X.X.X.X".
    Expect {
        file: "waf/aws-waf-security-automations-test_waf_log.log",
        format: "waf",
        records: 222,
        rejected: &[(BadIp, 6, "X.X.X.X")],
    },
    ok("waf/awsdocs-waf-classic-logging.log", "waf", 1),
    ok("waf/awsdocs-waf-logging-examples.log", "waf", 6),
    ok("waf/clo-opensearch-waf.log", "waf", 2),
    ok("waf/elastic-integrations-test-waf.log", "waf", 4),
    // CloudFront standard logs, every layout from 2011's 12 fields to 2019's 33.
    Expect {
        file: "cloudfront/aws-waf-security-automations-E3HXCM7PFRG6HT-noheader.log",
        format: "cloudfront",
        records: 0,
        rejected: &[(BadIp, 152, "x.x.x.x")],
    },
    ok(
        "cloudfront/aws-waf-security-automations-cf-access-log-sample-noheader.log.gz",
        "cloudfront",
        28_949,
    ),
    Expect {
        file: "cloudfront/awsdocs-cf-AccessLogs-2017-rtmp.log",
        format: "cloudfront",
        records: 0,
        rejected: &[(UnsupportedFormat, 6, "RTMP")],
    },
    Expect {
        file: "cloudfront/awsdocs-cf-AccessLogs-2017-space-separated.log",
        format: "cloudfront",
        records: 0,
        rejected: &[(WrongColumns, 2, "spaces, not tabs")],
    },
    ok(
        "cloudfront/awsdocs-cf-AccessLogs-2019-12-double-encoded.log",
        "cloudfront",
        6,
    ),
    ok("cloudfront/awsdocs-cf-AccessLogs-2023.log", "cloudfront", 6),
    // Standard logging v2 with a field selection that leaves out the client address.
    Expect {
        file: "cloudfront/awsdocs-standard-logging-v2-cloudwatch.json.log",
        format: "cloudfront-json",
        records: 0,
        rejected: &[(MissingField, 1, "c-ip")],
    },
    Expect {
        file: "cloudfront/awsdocs-standard-logging-v2-firehose.json.log",
        format: "cloudfront-json",
        records: 0,
        rejected: &[(MissingField, 2, "c-ip")],
    },
    Expect {
        file: "cloudfront/awsdocs-standard-logging-v2-s3-w3c-mangled.log",
        format: "cloudfront",
        records: 0,
        rejected: &[(MissingField, 2, "c-ip")],
    },
    ok(
        "cloudfront/claygregory-node-cloudfront-log-parser-web-1-0-2019-12.log",
        "cloudfront",
        3,
    ),
    ok(
        "cloudfront/claygregory-node-cloudfront-log-parser-web-1-0.log",
        "cloudfront",
        2,
    ),
    ok("cloudfront/clo-opensearch-cloudfront.log", "cloudfront", 2),
    ok(
        "cloudfront/clo-opensearch-microbatch-cloudfront.log",
        "cloudfront",
        2,
    ),
    ok(
        "cloudfront/coralogix-aws-shipper-cloudfront.log",
        "cloudfront",
        4,
    ),
    ok(
        "cloudfront/crowdsec-hub-aws-cloudfront-logs-noheader.log",
        "cloudfront",
        2,
    ),
    ok(
        "cloudfront/elastic-integrations-test-cloudfront.log",
        "cloudfront",
        12,
    ),
    ok(
        "cloudfront/logstash-patterns-core-aws_spec-noheader.log",
        "cloudfront",
        2,
    ),
    ok(
        "cloudfront/rkalla-cloudfront-log-parser-example-100.log",
        "cloudfront",
        100,
    ),
    // ALB. The AWS solution's test data anonymises every client as "x.0.0.0:50337".
    Expect {
        file: "alb/aws-waf-security-automations-alb.log",
        format: "alb",
        records: 0,
        rejected: &[(BadIp, 100, "x.0.0.0")],
    },
    ok("alb/beats-application-lb-http.log", "alb", 10),
    ok("alb/beats-example-alb-http.log", "alb", 9),
    ok("alb/clo-opensearch-elb.log", "alb", 2),
    ok("alb/clo-opensearch-microbatch-alb.log", "alb", 2),
    ok("alb/coralogix-aws-shipper-elb-grpcs.log", "alb", 576),
    ok("alb/crowdsec-hub-aws-alb-http-bad-user-agent.log", "alb", 4),
    ok("alb/crowdsec-hub-aws-alb-logs.log", "alb", 14),
    // Three ALB access lines among four NLB lines and three ALB connection-log lines.
    Expect {
        file: "alb/elastic-integrations-test-alb.log",
        format: "alb",
        records: 3,
        rejected: &[(UnsupportedFormat, 7, "")],
    },
    Expect {
        file: "alb/logstash-patterns-core-classic-elb.log",
        format: "unsupported",
        records: 0,
        rejected: &[(UnsupportedFormat, 4, "Classic Load Balancer")],
    },
    ok("alb/vrl-parse_aws_alb_log-tests.log", "alb", 13),
];

fn root() -> Option<PathBuf> {
    common::realworld_root()
}

/// The fields an expected.tsv row names.
#[derive(Debug)]
struct Seen {
    client: IpAddr,
    time_ms: i64,
    method: String,
    path: String,
    status: Option<u16>,
}

fn read(path: &Path) -> (FileSummary, Vec<Seen>) {
    let data = std::fs::read(path).unwrap();
    let mut seen = Vec::new();
    let summary = read_log(
        &path.display().to_string(),
        &data[..],
        &IngestOptions::default(),
        |r| {
            seen.push(Seen {
                client: r.client,
                time_ms: r.time_ms,
                method: r.method.to_string(),
                path: r.path.to_string(),
                status: r.status,
            });
        },
    )
    .unwrap();
    (summary, seen)
}

fn data_files(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for sub in std::fs::read_dir(dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            let name = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".expected.tsv") {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn every_sample_is_read_or_rejected_for_the_true_reason() {
    let Some(dir) = root() else { return };
    let listed: BTreeSet<String> = EXPECT.iter().map(|e| e.file.to_string()).collect();
    let present = data_files(&dir);
    let unlisted: Vec<_> = present.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "samples without a row here: {unlisted:?}"
    );

    let mut failures = Vec::new();
    for e in EXPECT {
        let path = dir.join(e.file);
        if !path.exists() {
            failures.push(format!("{}: listed but not present", e.file));
            continue;
        }
        let (s, _) = read(&path);
        let format = s.format.map(|f| f.as_str());
        if format != Some(e.format) {
            failures.push(format!("{}: format {format:?}, want {}", e.file, e.format));
        }
        if s.records != e.records {
            failures.push(format!(
                "{}: {} records, want {}",
                e.file, s.records, e.records
            ));
        }
        let want: Vec<(RejectReason, u64)> = e.rejected.iter().map(|r| (r.0, r.1)).collect();
        let got: Vec<(RejectReason, u64)> =
            s.rejected.counts.iter().map(|(k, v)| (*k, *v)).collect();
        if got != want {
            failures.push(format!("{}: rejected {got:?}, want {want:?}", e.file));
        }
        for sample in &s.rejected.samples {
            let word = e
                .rejected
                .iter()
                .find(|r| r.0 == sample.reason)
                .map_or("", |r| r.2);
            if !sample.detail.contains(word) {
                failures.push(format!(
                    "{} line {}: {:?} detail {:?} does not say {word:?}",
                    e.file, sample.line, sample.reason, sample.detail
                ));
            }
        }
        assert!(s.complete, "{}: {:?}", e.file, s.damage);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The mixed ALB file names each foreign line for what it is.
#[test]
fn foreign_lines_in_an_alb_file_are_named() {
    let Some(dir) = root() else { return };
    let (s, _) = read(&dir.join("alb/elastic-integrations-test-alb.log"));
    let details: Vec<(u64, &str)> = s
        .rejected
        .samples
        .iter()
        .map(|r| (r.line, r.detail.as_str()))
        .collect();
    for (line, detail) in &details {
        let want = if (3..=6).contains(line) {
            "Network Load Balancer"
        } else {
            "connection log"
        };
        assert!(detail.contains(want), "line {line}: {detail}");
    }
    assert_eq!(details.first().map(|d| d.0), Some(3));
}

/// The path an expected row names: beats and vrl give the whole URL, the others the path.
/// A URL with nothing after its authority asks for `/` (RFC 9112, 3.2.1).
fn expected_path(uri: &str) -> &str {
    let Some((_, rest)) = uri.split_once("://") else {
        return uri.split('?').next().unwrap_or(uri);
    };
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split('?').next().unwrap_or(path)
}

#[test]
fn records_match_what_the_source_projects_parsed() {
    let Some(dir) = root() else { return };
    let mut compared = 0;
    let mut failures = Vec::new();
    for e in EXPECT {
        let tsv = dir.join(format!("{}.expected.tsv", e.file));
        let Ok(text) = std::fs::read_to_string(&tsv) else {
            continue;
        };
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').collect())
            .collect();
        let (_, seen) = read(&dir.join(e.file));
        if rows.len() != seen.len() {
            failures.push(format!(
                "{}: {} records, source parsed {}",
                e.file,
                seen.len(),
                rows.len()
            ));
            continue;
        }
        for (row, got) in rows.iter().zip(&seen) {
            let at = format!("{} line {}", e.file, row[0]);
            let ip: IpAddr = row[1].parse().unwrap();
            if got.client != ip {
                failures.push(format!("{at}: client {} != {ip}", got.client));
            }
            let ms: i64 = row[2].parse().unwrap();
            // Elastic truncates ALB's microseconds to whole milliseconds, as floodgate does.
            if got.time_ms != ms {
                failures.push(format!("{at}: time {} != {ms}", got.time_ms));
            }
            if !got.method.eq_ignore_ascii_case(row[3]) {
                failures.push(format!("{at}: method {:?} != {:?}", got.method, row[3]));
            }
            // An empty uri: the source could not split a malformed request; not compared.
            let want_path = expected_path(row[4]);
            if !row[4].is_empty() && got.path != want_path {
                failures.push(format!("{at}: path {:?} != {want_path:?}", got.path));
            }
            // CloudFront writes 000 when the viewer left before a response: no status.
            let want_status = row
                .get(5)
                .and_then(|s| s.parse::<u16>().ok())
                .filter(|s| *s != 0);
            if got.status != want_status {
                failures.push(format!("{at}: status {:?} != {want_status:?}", got.status));
            }
            compared += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 60, "only {compared} rows compared");
}

/// Every line of `text`, read as one object, is rejected as `unsupported_format` and every
/// sample's detail says `word`; the file is reported as `unsupported`.
fn all_named(name: &str, text: &str, word: &str) {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
    let s = read_log(name, text.as_bytes(), &IngestOptions::default(), |_| {}).unwrap();
    assert_eq!(s.records, 0, "{name}");
    assert_eq!(s.format.map(|f| f.as_str()), Some("unsupported"), "{name}");
    let got: Vec<(RejectReason, u64)> = s.rejected.counts.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(got, vec![(UnsupportedFormat, lines)], "{name}");
    assert!(!s.rejected.samples.is_empty());
    for sample in &s.rejected.samples {
        assert!(
            sample.detail.contains(word),
            "{name} line {}: {:?} does not say {word:?}",
            sample.line,
            sample.detail
        );
    }
}

/// The WAF records of AWS's logging examples as the documentation prints them, one object
/// spread over many lines (SOURCES.md: the file holds them compacted): each line is said to
/// be part of a pretty-printed WAF record, from the first `{` on, not "none of the formats".
#[test]
fn a_pretty_printed_waf_document_is_named() {
    let Some(dir) = root() else { return };
    let compact =
        std::fs::read_to_string(dir.join("waf/awsdocs-waf-logging-examples.log")).unwrap();
    let mut pretty = String::new();
    for line in compact.lines().filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        pretty.push_str(&serde_json::to_string_pretty(&v).unwrap());
        pretty.push('\n');
    }
    all_named(
        "waf-pretty.json",
        &pretty,
        "WAF log record spread over several lines",
    );
}

/// Other AWS logs, as AWS documentation prints them (no such file is among the real-world
/// samples): each is named for what it is.
#[test]
fn other_aws_logs_are_named_for_what_they_are() {
    // A CloudTrail file, pretty-printed (CloudTrail user guide, "CloudTrail record contents").
    let cloudtrail = r#"{"Records": [{
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE",
        "arn": "arn:aws:iam::123456789012:user/Mary_Major",
        "accountId": "123456789012"
    },
    "eventTime": "2023-07-19T21:17:28Z",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "StartInstances",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "192.0.2.0",
    "eventType": "AwsApiCall",
    "recipientAccountId": "123456789012"
}]}
"#;
    all_named(
        "cloudtrail.json",
        cloudtrail,
        "CloudTrail document spread over several lines",
    );
    // A JSON document of no known kind is still said to be pretty-printed.
    all_named(
        "doc.json",
        "{\n  \"hello\": [\n    1,\n    2\n  ]\n}\n",
        "pretty-printed",
    );
    // A VPC flow log file in S3: its header line, then records (VPC user guide, "Flow log
    // records").
    let vpc = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
";
    let s = read_log("vpc.log", vpc.as_bytes(), &IngestOptions::default(), |_| {}).unwrap();
    let details: Vec<&str> = s
        .rejected
        .samples
        .iter()
        .map(|r| r.detail.as_str())
        .collect();
    assert_eq!(s.rejected.counts.get(&UnsupportedFormat), Some(&2));
    assert!(details[0].contains("VPC flow log header"), "{details:?}");
    assert!(details[1].contains("VPC flow log line"), "{details:?}");
    // S3 server access logs, with AWS's canonical owner id and with one anonymised.
    let s3 = r#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 - -
bucketowner DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 891CE47D2EXAMPLE REST.GET.LOGGING_STATUS - "GET /DOC-EXAMPLE-BUCKET1?logging HTTP/1.1" 200 - 242 - 11 - "-" "S3Console/0.4" -
"#;
    all_named("s3-access.log", s3, "S3 server access log");
}
