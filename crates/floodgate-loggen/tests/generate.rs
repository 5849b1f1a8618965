//! End-to-end checks of the generator: determinism, accounting, formats and ground truth,
//! computed independently from the bytes actually written.

use flate2::bufread::GzDecoder;
use floodgate_loggen::{generate, Compression, DecoysOptions, Format, Manifest, Options, Scenario};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "floodgate-loggen-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn small(seed: u64) -> Options {
    Options {
        seed,
        duration_ms: 20 * 60_000,
        users: 150,
        bad_lines: true,
        compression: Compression::Fast,
        ..Options::default()
    }
}

/// A run long enough for every attack to complete (scanner ends 75 minutes in).
fn full() -> &'static (PathBuf, Manifest) {
    static RUN: OnceLock<(PathBuf, Manifest)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tmp("full");
        let opts = Options {
            duration_ms: 80 * 60_000,
            users: 400,
            formats: Format::ALL.to_vec(),
            bad_lines: true,
            compression: Compression::Fast,
            ..Options::default()
        };
        let m = generate(&opts, &dir).expect("generate");
        (dir, m)
    })
}

/// Decompressed bytes and number of gzip members.
fn read_all(path: &Path) -> (Vec<u8>, u64) {
    let raw = std::fs::read(path).unwrap();
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return (raw, 0);
    }
    let mut out = Vec::new();
    let mut members = 0;
    let mut rest: &[u8] = &raw;
    while !rest.is_empty() {
        let mut d = GzDecoder::new(rest);
        d.read_to_end(&mut out).unwrap();
        rest = d.into_inner();
        members += 1;
    }
    (out, members)
}

fn files_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (tmp("det-a"), tmp("det-b"), tmp("det-c"));
    generate(&small(1), &a).unwrap();
    generate(&small(1), &b).unwrap();
    generate(&small(2), &c).unwrap();
    let (fa, fb, fc) = (files_bytes(&a), files_bytes(&b), files_bytes(&c));
    assert!(fa.len() > 5);
    assert_eq!(fa, fb, "same options must give identical files");
    assert_ne!(fa, fc, "another seed must give other files");
    for d in [a, b, c] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn manifest_matches_files() {
    let (dir, m) = full();
    let on_disk: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(&on_disk, m);
    let mut total = 0;
    let mut multi = 0;
    for f in &m.files {
        let (data, members) = read_all(&dir.join(&f.path));
        assert_eq!(data.len() as u64, f.bytes, "{}", f.path);
        assert_eq!(members, f.gzip_members, "{}", f.path);
        multi += u64::from(members > 1);
        let lines = data
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64;
        assert_eq!(lines, f.lines, "{}", f.path);
        let headers = match f.format {
            Format::Cloudfront | Format::CloudfrontW3c => 2,
            _ => 0,
        };
        let bad: u64 = f.bad_lines.values().sum();
        assert_eq!(f.records, lines - headers - bad, "{}", f.path);
        assert!(f.first_time_ms <= f.last_time_ms);
        total += f.records;
    }
    assert_eq!(total, m.totals.records);
    assert_eq!(m.totals.by_format.total(), total);
    for f in Format::ALL {
        assert!(
            m.files.iter().any(|x| x.format == f),
            "no {} file",
            f.name()
        );
    }
    assert_eq!(m.clients.iter().map(|c| c.requests).sum::<u64>(), total);
    assert!(multi > 0, "some files must be multi-member gzip");
    assert!(m.files.iter().any(|f| f.late), "a late file is expected");
    assert!(m.files.iter().any(|f| !f.bad_lines.is_empty()));
    assert!(m.clients.windows(2).all(|w| w[0].ip < w[1].ip));
}

/// One parsed request: key, time, method, path, status (None for WAF).
struct Req {
    ip: IpAddr,
    t: i64,
    post: bool,
    path: String,
    status: Option<u16>,
}

fn alb_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ' ' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn parse_ts(s: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if mo > 12 || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let ms = s
        .get(20..23)
        .and_then(|x| x.parse::<i64>().ok())
        .unwrap_or(0);
    Some(days(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + se * 1000 + ms)
}

/// A CloudFront request from its fields by W3C name, in any of the three time forms.
fn cloudfront_req(col: &dyn Fn(&str) -> Option<String>) -> Option<Req> {
    let t = if let Some(ms) = col("timestamp(ms)") {
        ms.parse().ok()?
    } else if let Some(secs) = col("timestamp") {
        let (s, frac) = secs.split_once('.')?;
        s.parse::<i64>().ok()? * 1000 + frac.parse::<i64>().ok()?
    } else {
        parse_ts(&format!("{}T{}", col("date")?, col("time")?))?
    };
    Some(Req {
        ip: col("c-ip")?.parse().ok()?,
        t,
        post: col("cs-method")? == "POST",
        path: col("cs-uri-stem")?,
        status: Some(col("sc-status")?.parse().ok()?),
    })
}

/// Parses every file independently of the generator; returns valid requests and bad-line count.
fn parse_corpus(dir: &Path, m: &Manifest) -> (Vec<Req>, u64) {
    let mut reqs = Vec::new();
    let mut bad = 0;
    for f in &m.files {
        let (data, _) = read_all(&dir.join(&f.path));
        let mut fields: Vec<String> = Vec::new();
        for raw in BufReader::new(&data[..]).split(b'\n') {
            let raw = raw.unwrap();
            let Ok(line) = std::str::from_utf8(&raw) else {
                bad += 1;
                continue;
            };
            let r = match f.format {
                Format::Waf => serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| {
                        for k in [
                            "formatVersion",
                            "webaclId",
                            "terminatingRuleId",
                            "action",
                            "httpSourceName",
                            "ruleGroupList",
                            "labels",
                        ] {
                            if k != "labels" {
                                assert!(v.get(k).is_some(), "missing {k} in {line}");
                            }
                        }
                        let h = &v["httpRequest"];
                        assert!(h["headers"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|x| x["name"] == "User-Agent")));
                        Some(Req {
                            ip: h["clientIp"].as_str()?.parse().ok()?,
                            t: v["timestamp"].as_i64()?,
                            post: h["httpMethod"] == "POST",
                            path: h["uri"].as_str()?.to_string(),
                            status: None,
                        })
                    }),
                Format::Cloudfront | Format::CloudfrontW3c => {
                    if let Some(rest) = line.strip_prefix("#Fields: ") {
                        fields = rest.split(' ').map(str::to_string).collect();
                        continue;
                    }
                    if line.starts_with('#') {
                        continue;
                    }
                    let cols: Vec<&str> = line
                        .strip_suffix('\t')
                        .unwrap_or(line)
                        .split('\t')
                        .collect();
                    assert_eq!(
                        cols.len(),
                        fields.len(),
                        "column count in {}: {line}",
                        f.path
                    );
                    let col =
                        |name: &str| Some(cols[fields.iter().position(|x| x == name)?].to_string());
                    cloudfront_req(&col)
                }
                Format::CloudfrontJson => serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| {
                        let obj = v.as_object()?;
                        assert!(
                            obj.values().all(|x| x.is_string()),
                            "v2 JSON values are strings: {line}"
                        );
                        cloudfront_req(&|name: &str| Some(obj.get(name)?.as_str()?.to_string()))
                    }),
                Format::Alb => {
                    let c = alb_fields(line);
                    assert!(c.len() >= 30, "ALB fields: {line}");
                    (|| {
                        let (ip, _port) = c[3].rsplit_once(':')?;
                        let mut req = c[12].split(' ');
                        let method = req.next()?;
                        let url = req.next()?;
                        let path = url
                            .splitn(4, '/')
                            .nth(3)
                            .map(|p| format!("/{}", p.split('?').next().unwrap_or("")))?;
                        Some(Req {
                            ip: ip.parse().ok()?,
                            t: parse_ts(&c[1])?,
                            post: method == "POST",
                            path,
                            status: Some(c[8].parse().ok()?),
                        })
                    })()
                }
            };
            match r {
                Some(r) => reqs.push(r),
                None => bad += 1,
            }
        }
    }
    (reqs, bad)
}

fn key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => format!("{v}/32"),
        IpAddr::V6(v) => {
            let s = v.segments();
            format!(
                "{}/64",
                std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0)
            )
        }
    }
}

/// `/login` as the `decoys` stuffers spell it, which an origin (and floodgate's rules) routes
/// to `/login`.
const SPELLED_LOGIN: [&str; 6] = [
    "/Login", "//login", "/login;x", "/%6Cogin", "/login/", "/./login",
];

/// Max window count per key for rules flood (5m), errors (4xx, 10m), login (POST /login, 5m).
fn max_windows(reqs: &[Req]) -> BTreeMap<String, [u64; 3]> {
    let mut per: BTreeMap<String, [BTreeMap<i64, u64>; 3]> = BTreeMap::new();
    for r in reqs {
        let e = per.entry(key(r.ip)).or_default();
        let b = r.t.div_euclid(1000);
        *e[0].entry(b).or_default() += 1;
        if r.status.is_some_and(|s| (400..500).contains(&s)) {
            *e[1].entry(b).or_default() += 1;
        }
        let p = r.path.as_str();
        if r.post
            && (["/login", "/wp-login.php", "/xmlrpc.php", "/user/login"].contains(&p)
                || SPELLED_LOGIN.contains(&p))
        {
            *e[2].entry(b).or_default() += 1;
        }
    }
    let win = |m: &BTreeMap<i64, u64>, w: i64| {
        let v: Vec<(i64, u64)> = m.iter().map(|(a, b)| (*a, *b)).collect();
        let (mut lo, mut sum, mut best) = (0, 0, 0);
        for hi in 0..v.len() {
            sum += v[hi].1;
            while v[lo].0 <= v[hi].0 - w {
                sum -= v[lo].1;
                lo += 1;
            }
            best = best.max(sum);
        }
        best
    };
    per.into_iter()
        .map(|(k, m)| (k, [win(&m[0], 300), win(&m[1], 600), win(&m[2], 300)]))
        .collect()
}

#[test]
fn formats_parse_and_ground_truth_holds() {
    let (dir, m) = full();
    let (reqs, bad) = parse_corpus(dir, m);
    assert_eq!(reqs.len() as u64, m.totals.records);
    let declared: u64 = m.files.iter().flat_map(|f| f.bad_lines.values()).sum();
    assert_eq!(bad, declared);
    assert!(declared >= 8);
    let windows = max_windows(&reqs);
    const LIMITS: [u64; 3] = [600, 100, 20];
    let mut seen = BTreeMap::new();
    for c in &m.clients {
        let k = c
            .ban_key
            .clone()
            .unwrap_or_else(|| key(c.ip.parse().unwrap()));
        let w = windows[&k];
        seen.insert(c.scenario.clone(), ());
        match c.scenario.as_str() {
            "background" => {
                assert!(!c.expect_ban);
                for i in 0..3 {
                    assert!(
                        w[i] * 2 < LIMITS[i],
                        "background {} window {i} = {}",
                        c.ip,
                        w[i]
                    );
                }
            }
            "nat-office" => {
                assert!(!c.expect_ban);
                for i in 0..3 {
                    assert!(w[i] * 10 <= LIMITS[i] * 7, "nat window {i} = {}", w[i]);
                }
            }
            "healthcheck" => {
                assert!(!c.expect_ban && c.ban_key.is_none());
                assert!(w[0] > LIMITS[0]);
            }
            "scanner" => {
                assert!(c.expect_ban && w[1] > LIMITS[1] && w[0] <= LIMITS[0]);
                assert_eq!(c.rule.as_deref(), Some("errors"));
            }
            "flood" | "ipv6-rotation" => {
                assert!(c.expect_ban && w[0] > LIMITS[0], "{} {:?}", c.ip, w);
                assert_eq!(c.rule.as_deref(), Some("flood"));
            }
            "bruteforce" => {
                assert!(c.expect_ban && w[2] > LIMITS[2]);
                assert_eq!(c.rule.as_deref(), Some("login"));
            }
            s => panic!("unexpected scenario {s}"),
        }
    }
    assert_eq!(seen.len(), 7, "all actors present: {seen:?}");
    let rotating = m
        .clients
        .iter()
        .filter(|c| c.ban_key.as_deref() == Some("2001:db8:bad:1::/64"))
        .count();
    assert!(rotating > 10, "the /64 must be spread over many addresses");
    for s in &m.scenarios {
        let want = matches!(
            s.name.as_str(),
            "flood" | "scanner" | "bruteforce" | "ipv6-rotation"
        );
        assert_eq!(s.expect_ban, want, "{}", s.name);
    }
}

/// The `decoys` scenario at a test size: every stuffer really over `login` (whatever its
/// spelling), every decoy exactly one over, the aged decoys seen long before the attack, the
/// quiet /64s under every limit, and the manifest's networks agreeing with its clients.
#[test]
fn decoys_scenario_is_what_it_says() {
    let dir = tmp("decoys");
    let opts = Options {
        scenario: Scenario::Decoys,
        duration_ms: 60 * 60_000,
        users: 200,
        compression: Compression::Fast,
        decoys: DecoysOptions {
            stuffers: 40,
            decoys: 300,
            quiet: 40,
            aged: 260,
            attack_start_ms: 30 * 60_000,
        },
        ..Options::default()
    };
    let m = generate(&opts, &dir).unwrap();
    let (reqs, bad) = parse_corpus(&dir, &m);
    assert_eq!((reqs.len() as u64, bad), (m.totals.records, 0));
    let windows = max_windows(&reqs);
    let attack = floodgate_loggen::DEFAULT_START_MS + 30 * 60_000;
    let mut first_seen: BTreeMap<String, i64> = BTreeMap::new();
    let mut first_post: BTreeMap<String, i64> = BTreeMap::new();
    let mut spellings = std::collections::BTreeSet::new();
    for r in &reqs {
        let k = key(r.ip);
        let f = first_seen.entry(k.clone()).or_insert(r.t);
        *f = (*f).min(r.t);
        if r.post {
            let f = first_post.entry(k).or_insert(r.t);
            *f = (*f).min(r.t);
            if SPELLED_LOGIN.contains(&r.path.as_str()) {
                spellings.insert(r.path.clone());
            }
        }
    }
    assert_eq!(spellings.len(), SPELLED_LOGIN.len(), "{spellings:?}");
    let mut per_scenario: BTreeMap<&str, u64> = BTreeMap::new();
    for c in &m.clients {
        let k = c.ban_key.clone().unwrap();
        let w = windows[&k];
        *per_scenario.entry(c.scenario.as_str()).or_default() += 1;
        match c.scenario.as_str() {
            "background" => assert!(!c.expect_ban && w[2] * 2 < 20, "{} {w:?}", c.ip),
            "credential-stuffer" => {
                assert!(c.expect_ban && w[2] > 20 && w[0] <= 600, "{} {w:?}", c.ip);
                assert_eq!(c.rule.as_deref(), Some("login"));
                assert!(first_post[&k] >= attack);
            }
            "decoy" | "decoy-aged" => {
                assert!(c.expect_ban && w[2] == 21, "{} {w:?}", c.ip);
                assert_eq!(c.rule.as_deref(), Some("login"));
                assert!(first_post[&k] >= attack);
                if c.scenario == "decoy-aged" {
                    assert!(first_seen[&k] <= attack - 20 * 60_000, "{}", c.ip);
                }
            }
            "decoy-quiet" => assert!(!c.expect_ban && c.requests == 1, "{}", c.ip),
            s => panic!("unexpected scenario {s}"),
        }
    }
    assert_eq!(per_scenario["credential-stuffer"], 40);
    assert_eq!(per_scenario["decoy"], 300);
    assert_eq!(per_scenario["decoy-quiet"], 40);
    assert_eq!(per_scenario["decoy-aged"], 260);
    // Stuffers are one per /24, none shares a /24 with anyone else.
    let net24 = |ip: &str| ip.rsplit_once('.').map(|(n, _)| n.to_string());
    let mut nets: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in m.clients.iter().filter(|c| c.ip.contains('.')) {
        nets.entry(net24(&c.ip).unwrap())
            .or_default()
            .push(&c.scenario);
    }
    for v in nets.values().filter(|v| v.contains(&"credential-stuffer")) {
        assert_eq!(v.len(), 1, "{v:?}");
    }
    // The manifest's networks hold exactly its decoys, and both /48s are expected banned whole
    // (300 and 260 offenders: at least ipv6_many_offenders = 256).
    assert_eq!(m.networks.len(), 2);
    for n in &m.networks {
        let (prefix, len) = n.cidr.split_once('/').unwrap();
        assert_eq!(len, "48");
        let prefix: std::net::Ipv6Addr = prefix.parse().unwrap();
        let inside: Vec<_> = m
            .clients
            .iter()
            .filter(|c| match c.ip.parse::<IpAddr>().unwrap() {
                IpAddr::V6(v) => v.segments()[..3] == prefix.segments()[..3],
                IpAddr::V4(_) => false,
            })
            .collect();
        let offenders = inside.iter().filter(|c| c.expect_ban).count() as u64;
        assert_eq!(
            (offenders, inside.len() as u64),
            (n.attackers, n.attackers + n.quiet)
        );
        assert!(inside.iter().all(|c| c.scenario.starts_with("decoy")));
        assert!(n.expect_range_ban, "{}", n.cidr);
        let kind = if n.quiet > 0 { "decoy" } else { "aged-decoy" };
        assert_eq!(n.kind, kind);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
