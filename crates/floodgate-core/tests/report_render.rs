//! The Markdown and HTML renderers on the real sample run and on a hostile report.

use floodgate_core::config::Config;
use floodgate_core::decision::{Blocklist, Changes};
use floodgate_core::engine::{self, RunInput};
use floodgate_core::pipeline::read_object;
use floodgate_core::reject::RejectSample;
use floodgate_core::report::{
    html, markdown, Attack, BanEntry, Counted, DroppedEntry, FileEntry, RangeEntry, Report,
    RuleEntry, Summary, Timeline, TrippedEntry, SCHEMA,
};
use floodgate_core::state::State;
use floodgate_core::{RejectReason, RejectStats};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if !matches!(
            path.file_name().and_then(|n| n.to_str()),
            Some("manifest.json" | "README.md")
        ) {
            out.push(path);
        }
    }
}

/// The report of one run of the default rules over `sample-logs/` (built once per process).
fn sample() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(sample_report)
}

fn sample_report() -> Report {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs");
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths.sort();
    let config = Config::default();
    let mut state = State::default();
    let mut input = RunInput::new(&config, &state);
    for path in paths {
        let id = path.strip_prefix(&root).unwrap().display().to_string();
        let file = std::fs::File::open(&path).unwrap();
        let (summary, tally) = read_object(
            &config,
            &floodgate_core::lateness::LateLines::of(&config, &state),
            &id,
            file,
        )
        .unwrap();
        input.add(id, summary, tally);
    }
    let decision = engine::run(&config, &mut state, input, None, false).unwrap();
    Report::build(&config, &state, &decision)
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// A string carrying every payload: markup, a script end tag, quotes, pipes, newlines.
fn hostile(tag: &str) -> String {
    format!("{tag} a|b`c`\nsecond line\r\n| --- | {SCRIPT} {IMG} '</script>")
}

/// An empty report: no files, no rules, no bans, no timeline.
fn empty_report() -> Report {
    Report {
        schema: SCHEMA.into(),
        generator: "floodgate test".into(),
        now: "2026-11-02T10:00:00.000Z".into(),
        dry_run: false,
        summary: Summary::default(),
        files: vec![],
        skipped: vec![],
        rejected: RejectStats::default(),
        rules: vec![],
        bans: vec![],
        blocklist: Blocklist::default(),
        dropped: vec![],
        changes: Changes::default(),
        timeline: Timeline::default(),
        near_misses: Vec::new(),
        ranges: vec![],
        guardrail: vec![],
        attack: Attack::default(),
    }
}

/// Every string field carries a payload; numbers and times are extreme or malformed.
fn hostile_report() -> Report {
    let counted = |tag: &str| {
        vec![Counted {
            value: hostile(tag).into(),
            count: u64::MAX,
        }]
    };
    let ban = |cidr: String, active: bool, blocked: bool, limit: u32| BanEntry {
        cidr,
        rule: hostile("rule"),
        rules: vec![hostile("rule"), "other|rule".into()],
        offences: u32::MAX,
        first_offence: hostile("first"),
        last_offence: "not a time".into(),
        since: "2026-11-02T08:20:56.000Z".into(),
        until: "".into(),
        active,
        new: true,
        blocked,
        peak: u32::MAX,
        limit,
        severity: f64::INFINITY,
        country: Some(hostile("country")),
        top_paths: counted("path"),
        top_user_agents: counted("ua"),
        range: Some(hostile("range")),
    };
    let mut counts = std::collections::BTreeMap::new();
    counts.insert(RejectReason::BadJson, u64::MAX);
    Report {
        schema: hostile("schema"),
        generator: hostile("generator"),
        now: hostile("now"),
        dry_run: true,
        summary: Summary {
            files: u64::MAX,
            records: u64::MAX,
            bytes: u64::MAX,
            first_event: Some("2026-11-02T08:00:00.000Z".into()),
            last_event: Some(hostile("last")),
            bans_active: 3,
            ..Summary::default()
        },
        files: vec![FileEntry {
            path: hostile("file"),
            format: Some(hostile("format")),
            gzip: true,
            records: 1,
            rejected: 1,
            bytes: 1,
            complete: false,
            damage: Some(hostile("damage")),
            first_event: Some(hostile("fe")),
            last_event: None,
        }],
        skipped: vec![hostile("skipped")],
        rejected: RejectStats {
            counts,
            samples: vec![RejectSample {
                file: hostile("sample-file"),
                line: u64::MAX,
                reason: RejectReason::BadJson,
                detail: hostile("detail"),
                excerpt: hostile("excerpt"),
            }],
        },
        rules: vec![RuleEntry {
            name: hostile("rule"),
            window: hostile("window"),
            limit: 0,
            filters: hostile("filters"),
            keys_tracked: u64::MAX,
            bans: 1,
        }],
        bans: vec![
            ban(hostile("cidr"), true, true, 0),
            ban("2001:db8::/64".into(), true, false, u32::MAX),
            ban("198.51.100.7/32".into(), false, false, 1),
        ],
        blocklist: Blocklist {
            ipv4: vec![hostile("v4")],
            ipv6: vec![hostile("v6")],
        },
        dropped: vec![DroppedEntry {
            cidr: hostile("dropped"),
            rule: hostile("rule"),
            reason: hostile("reason"),
            severity: f64::NAN,
            until: hostile("until"),
        }],
        changes: Changes {
            added: vec![hostile("added")],
            removed: vec![hostile("removed")],
        },
        timeline: Timeline {
            requests_per_minute: vec![(1_793_606_400_000, u64::MAX)],
            ban_starts: vec![(1_793_606_400_000, hostile("ban-start"))],
            bans_per_minute: vec![(1_793_606_400_000, u64::MAX), (i64::MAX, 3)],
        },
        near_misses: vec![floodgate_core::near_miss::NearMiss {
            rule: hostile("rule"),
            cidr: hostile("near"),
            peak: u32::MAX,
            limit: 0,
        }],
        ranges: vec![RangeEntry {
            cidr: hostile("range"),
            members: u64::MAX,
            clients_seen: 0,
            share: f64::NAN,
            rule: hostile("rule"),
            severity: f64::INFINITY,
            since: hostile("since"),
            until: "".into(),
            new: true,
            blocked: false,
        }],
        guardrail: vec![TrippedEntry {
            rule: hostile("rule"),
            bans: u64::MAX,
            clients: 0,
            networks: u64::MAX,
            of_networks: 0,
            basis: hostile("basis"),
            share: f64::INFINITY,
            held_back: u64::MAX,
            why: hostile("why"),
        }],
        attack: Attack {
            offenders: u64::MAX,
            blocked: u64::MAX,
            coverage: f64::NAN,
            clients_seen: 1,
            range_entries: u64::MAX,
            single_entries: 3,
            held_back: [(hostile("reason"), u64::MAX)].into_iter().collect(),
            by_rule: counted("by-rule"),
            by_country: counted("by-country"),
        },
    }
}

/// The tags of a page (`<…>` outside the style and script bodies). Every `<` that came from
/// data is escaped, so each raw `<` starts a tag the renderer wrote.
fn tags(page: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find('<') {
        let end = start + rest[start..].find('>').expect("tag closes");
        let tag = &rest[start..=end];
        out.push(tag);
        rest = &rest[end + 1..];
        for raw in ["<style>", "<script>"] {
            if tag == raw {
                let close = format!("</{}", &raw[1..]);
                rest = &rest[rest.find(&close).expect("raw text closes")..];
            }
        }
    }
    out
}

/// Structural checks every rendered page must pass.
fn check_html(page: &str) {
    assert!(page.starts_with("<!doctype html>"));
    let tags = tags(page);
    assert_eq!(
        tags.iter().filter(|t| t.starts_with("<script")).count(),
        1,
        "only our script"
    );
    assert_eq!(page.matches("</script").count(), 1, "one script end tag");
    for tag in &tags {
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            !["img", "iframe", "link", "object", "embed", "base", "form", "image", "use", "a"]
                .contains(&name.as_str())
                || (name == "a" && tag.starts_with("<a href=\"#")),
            "unexpected element {tag}"
        );
        for attr in [
            " src=",
            " srcset=",
            " action=",
            " on",
            "javascript:",
            "url(",
            "xlink:",
        ] {
            assert!(!tag.contains(attr), "{attr} in {tag}");
        }
    }
    assert!(!page.contains("@import") && !page.contains("url("));
    assert!(page.contains("Content-Security-Policy"));
    for (open, close) in [
        ("<table", "</table>"),
        ("<tr>", "</tr>"),
        ("<section", "</section>"),
        ("<svg", "</svg>"),
        ("<td", "</td>"),
    ] {
        assert_eq!(
            page.matches(open).count(),
            page.matches(close).count(),
            "{open} balanced"
        );
    }
    assert!(
        !page.contains("NaN") && !page.contains("inf\""),
        "finite coordinates"
    );
}

/// `md` without its code spans (CommonMark: a run of n backticks up to the next run of exactly n).
fn outside_code_spans(md: &str) -> String {
    let b = md.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < b.len() {
        if b[i] != b'`' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let n = b[i..].iter().take_while(|c| **c == b'`').count();
        let mut j = i + n;
        let mut end = None;
        while j < b.len() {
            let m = b[j..].iter().take_while(|c| **c == b'`').count();
            if m == n {
                end = Some(j + m);
                break;
            }
            j += m.max(1);
        }
        match end {
            Some(e) => {
                out.extend_from_slice(b"CODE");
                i = e;
            }
            None => {
                out.extend_from_slice(&b[i..i + n]);
                i += n;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// No HTML and no autolink outside code spans; every table row stays on one line and has as
/// many cells as its header.
fn check_markdown(md: &str) {
    let outside = outside_code_spans(md);
    let bytes = outside.as_bytes();
    for (i, _) in outside.match_indices('<') {
        assert!(
            i > 0 && bytes[i - 1] == b'\\',
            "unescaped < at {i}: no HTML in Markdown"
        );
    }
    // Values from logs (paths, user agents, countries, rejected lines) are code spans, so
    // they can neither autolink nor @mention: none of their payloads is outside one.
    for tag in ["path", "ua", "country", "detail", "excerpt"] {
        let payload = format!("{tag} a");
        assert!(
            !outside.contains(&payload),
            "{payload:?} outside a code span"
        );
    }
    let cells = |line: &str| {
        let (mut n, mut chars) = (0, line.chars());
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '|' => n += 1,
                _ => {}
            }
        }
        n
    };
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            assert!(line.ends_with(" |"), "row ends the line: {line:?}");
            let n = cells(line);
            assert_eq!(*header.get_or_insert(n), n, "cells in {line:?}");
        } else {
            header = None;
        }
    }
}

#[test]
fn sample_html_has_every_section_and_the_expected_bans() {
    let r = sample();
    assert_eq!(r.bans.len(), 6, "the sample's six offenders");
    let page = html::render(r);
    check_html(&page);
    assert!(page.contains("<svg class=\"chart timeline\""));
    assert!(page.contains("<svg class=\"chart offenders\""));
    // the three flood bans start within seconds and share one marker; every ban is in a tooltip
    assert_eq!(page.matches("<g class=\"ban\">").count(), 4);
    assert_eq!(page.matches("ban of ").count(), 6);
    assert!(page.contains("<table class=\"sortable\" data-name=\"bans\">"));
    for id in [
        "timeline",
        "offenders",
        "bans",
        "blocklist",
        "changes",
        "rules",
        "rejected",
        "files",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    for cidr in [
        "192.0.2.50/32",
        "198.51.100.7/32",
        "203.0.113.10/31",
        "2001:db8:bad:1::/64",
    ] {
        assert!(page.contains(cidr), "{cidr}");
    }
    assert!(page.contains("77,552") && page.contains("python-requests/2.32.3"));
    assert!(page.contains("bad_json") && page.contains("E2FLOODGATE0001"));
    assert!(page.len() < 1_000_000, "a small page");
    assert_eq!(page, html::render(r), "deterministic");
}

#[test]
fn sample_markdown_is_tables_and_lists() {
    let r = sample();
    let md = markdown::render(r);
    check_markdown(&md);
    for heading in [
        "# floodgate report",
        "## Summary",
        "## Bans (6)",
        "## Blocklist",
        "## Rules",
        "## Rejected input (13 lines)",
        "## Files (51)",
    ] {
        assert!(md.contains(heading), "{heading}");
    }
    assert!(md.contains("- **IPv6 (1):** 2001:db8:bad:1::/64"));
    assert!(md.contains("| 192.0.2.50/32 | errors, login | 22 |"));
    assert!(!md.contains("<td") && !md.contains("<br"), "no HTML");
}

#[test]
fn hostile_strings_are_text_in_html() {
    let page = html::render(&hostile_report());
    check_html(&page);
    assert!(!page.contains(SCRIPT) && !page.contains(IMG) && !page.contains("onerror=alert(1)>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("&#39;&lt;/script&gt;"));
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(page.contains("Dry run"));
    // log data never lands inside an attribute value (the page has no attributes with `&lt;`)
    assert!(!page.contains("=\"&lt;") && !page.contains("=\"&quot;"));
}

#[test]
fn hostile_strings_cannot_break_markdown_tables() {
    let md = markdown::render(&hostile_report());
    check_markdown(&md);
    // every `<` is backslash-escaped (checked above), so these render as text
    assert!(md.contains("\\<img src=x"));
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>"));
    assert!(md.contains("a\\|b\\`c\\` second line"));
    assert!(md.contains("> **Dry run:**"));
}

#[test]
fn empty_and_degenerate_reports_render() {
    let r = empty_report();
    let page = html::render(&r);
    check_html(&page);
    assert!(page.contains("No requests in this run.") && page.contains("No bans."));
    check_markdown(&markdown::render(&r));
    // one point, zero-length and extreme timelines
    let mut r = empty_report();
    for points in [
        vec![(0, 0)],
        vec![(i64::MIN, u64::MAX), (i64::MAX, 0)],
        vec![(5, 1), (5, 2)],
    ] {
        r.timeline.requests_per_minute = points;
        r.timeline.ban_starts = vec![(i64::MAX, "x".into()), (0, "y".into())];
        check_html(&html::render(&r));
    }
}

fn out_dir() -> PathBuf {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-sample");
    std::fs::create_dir_all(&out).unwrap();
    out
}

/// For tests/html_report.sh: the sample report as report.html/.md/.json.
#[test]
#[ignore]
fn write_sample_html() {
    let r = sample();
    let out = out_dir();
    std::fs::write(out.join("report.html"), html::render(r)).unwrap();
    std::fs::write(out.join("report.md"), markdown::render(r)).unwrap();
    std::fs::write(out.join("report.json"), r.to_json()).unwrap();
}

/// For tests/html_report.sh: a page made of hostile strings, to check in a real browser.
#[test]
#[ignore]
fn write_hostile_html() {
    let out = out_dir();
    std::fs::write(out.join("hostile.html"), html::render(&hostile_report())).unwrap();
    std::fs::write(out.join("hostile.md"), markdown::render(&hostile_report())).unwrap();
}

/// A flood-sized run: 40,000 attacking addresses (half packed 200 to a /24 in 100 rented
/// ranges, half scattered one per network) a little over "5 requests in 5 minutes", among
/// 60,000 ordinary clients in the same 20 minutes (so the guardrail sees an attack, not a
/// broken rule), through the engine. Reports stay bounded: report.html ≤ 5 MB,
/// report.md within a GitHub comment (65,536 characters), report.json complete.
fn flood_report() -> Report {
    let config = Config::from_toml(
        "[[rules]]\nname = \"flood\"\nwindow = \"5m\"\nlimit = 5\n[allow]\ncidrs = []\n",
    )
    .unwrap();
    let mut log =
        String::from("#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n");
    let mut line = |ip: String, sec: u32, path: &str| {
        log.push_str(&format!(
            "2026-11-02\t08:{:02}:{:02}\t{ip}\tGET\t{path}\t200\n",
            sec / 60 % 60,
            sec % 60
        ));
    };
    for i in 0..20_000u32 {
        let packed = format!("45.0.{}.{}", i / 200, 1 + i % 200);
        let scattered = format!("80.{}.{}.7", i / 256, i % 256);
        for k in 0..6 {
            line(packed.clone(), 60 + i % 600 + k, "/search");
            line(scattered.clone(), 60 + i % 600 + k, "/login");
        }
        for o in 0..3 {
            line(
                format!("9{o}.{}.{}.9", i / 256, i % 256),
                600 + i % 600,
                "/",
            );
        }
    }
    let mut state = State::default();
    let mut input = RunInput::new(&config, &state);
    let (summary, tally) = read_object(
        &config,
        &floodgate_core::lateness::LateLines::of(&config, &state),
        "flood.log",
        log.as_bytes(),
    )
    .unwrap();
    assert_eq!(summary.records, 300_000);
    input.add("flood.log".into(), summary, tally);
    let decision = engine::run(&config, &mut state, input, None, false).unwrap();
    Report::build(&config, &state, &decision)
}

/// For tests/html_report.sh: the flood-sized report, to load in a real browser.
#[test]
#[ignore]
fn write_flood_html() {
    let r = flood_report();
    assert_eq!(r.ranges.len(), 100, "the 100 rented /24s are banned whole");
    let json = r.to_json();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["bans"].as_array().unwrap().len(),
        40_000,
        "report.json is complete"
    );
    let page = html::render(&r);
    assert!(
        page.len() <= 5_000_000,
        "report.html is {} bytes",
        page.len()
    );
    let md = markdown::render(&r);
    assert!(
        md.chars().count() <= 65_536,
        "report.md is {} characters",
        md.chars().count()
    );
    let out = out_dir();
    std::fs::write(out.join("flood.html"), page).unwrap();
    std::fs::write(out.join("flood.md"), md).unwrap();
}
