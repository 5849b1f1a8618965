//! The features of "Floods no single address makes" (issue #24) on logs written by other
//! projects and by AWS documentation (`../shared/realworld/`, never copied into the
//! repository): header names, WAF's verdict, CAPTCHA/Challenge responses and fingerprints as
//! the JSON says them, and CloudFront v2's `asn`. Without the directory the tests say so and
//! pass, except under `CI=true` (as `realworld.rs`).

mod common;

use floodgate_core::{read_log, IngestOptions};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

fn root() -> Option<PathBuf> {
    common::realworld_root()
}

/// Every WAF sample (`waf/*.log`), sorted.
fn waf_files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join("waf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log"))
        .map(|n| format!("waf/{n}"))
        .collect();
    out.sort();
    out
}

/// One record's features as floodgate read them, or as read independently from the JSON.
#[derive(Debug, PartialEq)]
struct Features {
    header_names: Vec<String>,
    other_headers: u8,
    verdict: floodgate_core::features::Verdict,
    captcha: Option<(u16, bool)>,
    challenge: Option<(u16, bool)>,
    ja3: Option<String>,
    ja4: Option<String>,
}

/// `captchaResponse` / `challengeResponse` as (responseCode, has a failureReason).
fn token_of(v: &serde_json::Value) -> Option<(u16, bool)> {
    let t = v.as_object()?;
    let code = t.get("responseCode").and_then(|c| c.as_u64()).unwrap_or(0) as u16;
    let failed = t
        .get("failureReason")
        .and_then(|f| f.as_str())
        .is_some_and(|f| !f.is_empty());
    Some((code, failed))
}

/// Every WAF sample: header names, WAF's verdict, the CAPTCHA and Challenge responses and the
/// fingerprints are what the JSON says, read here with serde_json::Value (not floodgate's
/// reader), record by record; and the samples that have them do have them.
#[test]
fn waf_features_match_the_samples() {
    use floodgate_core::features::{Verdict, KNOWN_HEADERS};
    let Some(dir) = root() else { return };
    let mut captchas = 0;
    let mut names_seen = 0;
    let files = waf_files(&dir);
    assert!(files.len() >= 5, "{files:?}");
    for file in &files {
        let path = dir.join(file);
        let data = std::fs::read(&path).unwrap();
        let mut got = Vec::new();
        read_log(file, &data[..], &IngestOptions::default(), |r| {
            got.push(Features {
                header_names: r.header_names.names().map(String::from).collect(),
                other_headers: r.header_names.others,
                verdict: r.verdict(),
                captcha: r.captcha.map(|t| (t.response_code, t.terminated())),
                challenge: r.challenge.map(|t| (t.response_code, t.terminated())),
                ja3: r.ja3.as_deref().map(String::from),
                ja4: r.ja4.as_deref().map(String::from),
            })
        })
        .unwrap();
        let mut want = Vec::new();
        for line in String::from_utf8(data).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let http = &v["httpRequest"];
            if http["clientIp"]
                .as_str()
                .unwrap()
                .parse::<IpAddr>()
                .is_err()
            {
                continue; // rejected (anonymised address)
            }
            let mut known = Vec::new();
            let mut others = 0;
            for h in http["headers"].as_array().into_iter().flatten() {
                let name = h["name"].as_str().unwrap().to_ascii_lowercase();
                match KNOWN_HEADERS.iter().position(|k| *k == name) {
                    Some(i) if !known.contains(&i) => known.push(i),
                    Some(_) => {}
                    None => others += 1,
                }
            }
            known.sort_unstable();
            let verdict = match v["action"].as_str() {
                Some("ALLOW") => Verdict::Allowed,
                Some("BLOCK") => Verdict::Blocked,
                Some("COUNT") => Verdict::Counted,
                Some("CAPTCHA") => Verdict::Captcha,
                Some("CHALLENGE") => Verdict::Challenged,
                _ => Verdict::Unknown,
            };
            let text = |k: &str| v[k].as_str().map(String::from);
            want.push(Features {
                header_names: known
                    .iter()
                    .map(|&i| KNOWN_HEADERS[i].to_string())
                    .collect(),
                other_headers: others,
                verdict,
                captcha: token_of(&v["captchaResponse"]),
                challenge: token_of(&v["challengeResponse"]),
                ja3: text("ja3Fingerprint"),
                ja4: text("ja4Fingerprint"),
            });
        }
        assert_eq!(got, want, "{file}");
        captchas += got.iter().filter(|f| f.captcha.is_some()).count();
        names_seen += got.iter().filter(|f| !f.header_names.is_empty()).count();
    }
    // AWS's examples: one request shown a CAPTCHA (no token), not let through.
    assert_eq!(captchas, 1);
    assert!(names_seen >= 230, "{names_seen}");
}

/// The AWS examples of standard logging v2 carry `asn` but leave out the client address (so
/// they are rejected as they are): with a `c-ip` added here, each record reads its ASN.
#[test]
fn cloudfront_v2_records_read_their_asn() {
    let Some(dir) = root() else { return };
    let mut read = 0;
    for file in [
        "cloudfront/awsdocs-standard-logging-v2-firehose.json.log",
        "cloudfront/awsdocs-standard-logging-v2-cloudwatch.json.log",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let with_ip = text.replace("{\"date\"", "{\"c-ip\":\"192.0.2.1\",\"date\"");
        let mut asns = Vec::new();
        let s = read_log(file, with_ip.as_bytes(), &IngestOptions::default(), |r| {
            asns.push(r.asn)
        })
        .unwrap();
        assert_eq!(s.format.map(|f| f.as_str()), Some("cloudfront-json"));
        assert!(!asns.is_empty(), "{file}");
        assert!(asns.iter().all(|a| *a == Some(16509)), "{file}: {asns:?}");
        read += asns.len();
    }
    assert_eq!(read, 3);
}
