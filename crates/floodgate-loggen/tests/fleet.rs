//! The `residential-fleet` scenario, checked from the bytes written: what its manifest says
//! about the fleet is true, no fleet address is over two requests, the fleet's fingerprints
//! are its own, and the background's fingerprints are a handful shared by many clients.

use floodgate_loggen::{generate, Compression, FleetOptions, Format, Manifest, Options, Scenario};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "floodgate-loggen-fleet-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Every line of every file of `format` under `dir` (plain text).
fn lines(dir: &Path, m: &Manifest, format: Format) -> Vec<String> {
    let mut out = Vec::new();
    for f in m.files.iter().filter(|f| f.format == format) {
        let text = std::fs::read_to_string(dir.join(&f.path)).unwrap();
        out.extend(text.lines().map(String::from));
    }
    out
}

/// One WAF record, as the JSON says.
struct Rec {
    ip: String,
    time: i64,
    uri: String,
    args: String,
    ua: String,
    ja3: String,
    ja4: String,
}

fn waf_records(dir: &Path, m: &Manifest) -> Vec<Rec> {
    lines(dir, m, Format::Waf)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let h = &v["httpRequest"];
            let ua = h["headers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == "User-Agent")
                .map(|x| x["value"].as_str().unwrap().to_string())
                .unwrap();
            let s = |x: &serde_json::Value| x.as_str().unwrap().to_string();
            Rec {
                ip: s(&h["clientIp"]),
                time: v["timestamp"].as_i64().unwrap(),
                uri: s(&h["uri"]),
                args: s(&h["args"]),
                ua,
                ja3: s(&v["ja3Fingerprint"]),
                ja4: s(&v["ja4Fingerprint"]),
            }
        })
        .collect()
}

fn ms(rfc3339: &str) -> i64 {
    floodgate_loggen::time::parse_rfc3339(rfc3339).unwrap()
}

#[test]
fn the_fleet_is_what_its_manifest_says() {
    let dir = tmp("waf");
    let opts = Options {
        scenario: Scenario::ResidentialFleet,
        formats: vec![Format::Waf],
        seed: 5,
        duration_ms: 40 * 60_000,
        users: 600,
        compression: Compression::None,
        fleet: FleetOptions {
            addresses: 1500,
            start_ms: 30 * 60_000,
            ..FleetOptions::default()
        },
        ..Options::default()
    };
    let m = generate(&opts, &dir).unwrap();
    let fleet = m.fleet.clone().expect("the manifest's fleet truth");
    let recs = waf_records(&dir, &m);
    let fleet_ips: BTreeSet<&str> = m
        .clients
        .iter()
        .filter(|c| c.scenario == "residential-fleet")
        .map(|c| c.ip.as_str())
        .collect();
    assert_eq!(fleet_ips.len() as u64, fleet.addresses);
    assert_eq!(fleet.addresses, 1500);
    // Nobody is to be banned: no address is anywhere near a limit.
    assert!(m.clients.iter().all(|c| !c.expect_ban));

    let (ours, theirs): (Vec<&Rec>, Vec<&Rec>) =
        recs.iter().partition(|r| fleet_ips.contains(r.ip.as_str()));
    assert_eq!(ours.len() as u64, fleet.requests);
    let mut per_ip: HashMap<&str, u64> = HashMap::new();
    for r in &ours {
        *per_ip.entry(&r.ip).or_default() += 1;
    }
    assert!(
        per_ip.values().all(|&n| n <= 2),
        "a fleet address sent more than 2"
    );
    assert_eq!(
        per_ip.values().max().copied(),
        Some(fleet.max_requests_per_address)
    );
    assert!(per_ip.values().filter(|&&n| n == 2).count() > 300);

    // One path, every query string distinct, within the window the manifest gives, which
    // starts after the background's history.
    assert_eq!(fleet.path, "/search");
    assert!(fleet.distinct_queries);
    assert!(ours.iter().all(|r| r.uri == "/search"));
    let queries: BTreeSet<&str> = ours.iter().map(|r| r.args.as_str()).collect();
    assert_eq!(queries.len(), ours.len());
    let (from, to) = (ms(&fleet.start), ms(&fleet.end));
    assert!(from >= ms(&m.start) + 30 * 60_000 && to < from + 7 * 60_000);
    assert!(ours.iter().all(|r| (from..=to).contains(&r.time)));
    let history = theirs.iter().filter(|r| r.time < from).count();
    assert!(
        history > 300,
        "{history} ordinary requests before the fleet"
    );

    // Its fingerprints are its own; the background never sends them, the fleet does.
    assert_eq!(fleet.ja3_only_fleet.len(), 3);
    assert_eq!(fleet.ja4_only_fleet.len(), 3);
    for r in &theirs {
        assert!(!fleet.ja3_only_fleet.contains(&r.ja3), "{}", r.ja3);
        assert!(!fleet.ja4_only_fleet.contains(&r.ja4), "{}", r.ja4);
        assert!(!fleet.user_agents_only_fleet.contains(&r.ua), "{}", r.ua);
    }
    for f in &fleet.ja4_only_fleet {
        assert!(ours.iter().filter(|r| &r.ja4 == f).count() > 50, "{f}");
    }
    assert!(fleet
        .user_agents_only_fleet
        .iter()
        .any(|u| u.contains("HeadlessChrome")));
    // The share that looks ordinary: neither fingerprint nor agent is the fleet's own.
    let ordinary = ours
        .iter()
        .filter(|r| {
            !fleet.ja4_only_fleet.contains(&r.ja4) && !fleet.user_agents_only_fleet.contains(&r.ua)
        })
        .count();
    let share = ordinary as f64 / ours.len() as f64;
    assert!((share - fleet.ordinary_share).abs() < 1e-9);
    assert!((0.18..0.32).contains(&share), "{share}");

    // The background: a handful of fingerprints, each shared by many clients.
    let mut clients_by_ja4: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &theirs {
        clients_by_ja4.entry(&r.ja4).or_default().insert(&r.ip);
    }
    assert!(clients_by_ja4.len() <= 8, "{:?}", clients_by_ja4.keys());
    let sizes: Vec<usize> = clients_by_ja4.values().map(|c| c.len()).collect();
    let shared = sizes.iter().filter(|&&n| n >= 15).count();
    assert!(shared >= 3, "clients per fingerprint: {sizes:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// CloudFront standard logging v2 writes each client's residential ASN, the same on every
/// record of that client, where the file's field selection has `asn`.
#[test]
fn cloudfront_v2_records_carry_a_stable_asn() {
    let dir = tmp("v2");
    let opts = Options {
        scenario: Scenario::Background,
        formats: vec![Format::CloudfrontJson],
        seed: 3,
        duration_ms: 3 * 3_600_000,
        users: 200,
        compression: Compression::None,
        ..Options::default()
    };
    let m = generate(&opts, &dir).unwrap();
    let mut asn_of: HashMap<String, String> = HashMap::new();
    let mut with_asn = 0;
    for l in lines(&dir, &m, Format::CloudfrontJson) {
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        let (Some(ip), Some(asn)) = (v["c-ip"].as_str(), v["asn"].as_str()) else {
            continue;
        };
        assert!(asn.parse::<u32>().is_ok_and(|a| a > 0), "{asn}");
        let before = asn_of
            .entry(ip.to_string())
            .or_insert_with(|| asn.to_string());
        assert_eq!(before, asn, "{ip}");
        with_asn += 1;
    }
    assert!(with_asn > 100, "{with_asn}");
    let _ = std::fs::remove_dir_all(&dir);
}
