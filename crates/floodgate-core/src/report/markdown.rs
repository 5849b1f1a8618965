//! `report.md`: the report for a pull request, a ticket or a chat message.
//!
//! Plain CommonMark/GFM (headings, a summary list, tables), no HTML. Values that came from
//! logs (paths, user agents, countries, rejected lines) are code spans ([`md_code`]), so a
//! pasted report can neither autolink nor @mention anyone nor inject markup; other cells are
//! escaped with [`md_cell`]. The file always fits a GitHub comment ([`MAX_CHARS`]): tables show
//! their first rows (the most severe bans) and say how many more are in report.json; if the
//! result is still too long the row limits are halved until it fits.

use super::text::{self, int, md_cell, md_code};
use super::{Counted, Report};
use std::fmt::Write;

/// GitHub's limit on a comment body is 65,536 characters; leave room for a heading around it.
pub const MAX_CHARS: usize = 60_000;
/// Longest value shown in a cell.
const CELL: usize = 60;

/// Rows per table; halved while the report is too long.
#[derive(Clone, Copy)]
struct Caps {
    bans: usize,
    rows: usize,
}

/// Render the report as Markdown. Never panics, whatever the report holds; never longer than
/// [`MAX_CHARS`] characters.
pub fn render(report: &Report) -> String {
    let mut caps = Caps { bans: 50, rows: 30 };
    loop {
        let out = render_with(report, caps);
        if out.chars().count() <= MAX_CHARS || (caps.bans <= 1 && caps.rows <= 1) {
            return cut(out);
        }
        caps = Caps {
            bans: caps.bans / 2,
            rows: caps.rows / 2,
        };
    }
}

/// The last resort: cut at a line boundary below the limit.
fn cut(s: String) -> String {
    if s.chars().count() <= MAX_CHARS {
        return s;
    }
    let mut out = String::new();
    for line in s.lines() {
        if out.chars().count() + line.chars().count() + 60 > MAX_CHARS {
            out.push_str("\n… (cut to fit a comment; the full report is report.json)\n");
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn render_with(r: &Report, caps: Caps) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ = writeln!(o, "# floodgate report\n");
    let _ = writeln!(
        o,
        "Decision time **{} UTC** · {} · schema {}\n",
        cell(&text::time(&r.now)),
        cell(&r.generator),
        cell(&r.schema)
    );
    if r.dry_run {
        o.push_str("> **Dry run:** bans were decided and reported, but no IP set was changed.\n\n");
    }
    for t in &r.guardrail {
        let _ = writeln!(
            o,
            "> **Guardrail tripped:** {}; its {} new ban(s) are held back (dropped, reason `guardrail`). A rule that bans most of the site's audience is more likely broken than under attack.\n",
            md_cell(&t.why),
            int(t.held_back)
        );
    }
    summary(&mut o, r);

    let a = &r.attack;
    if a.offenders > 0 {
        o.push_str("\n## The attack\n\n");
        let _ = writeln!(
            o,
            "- **Coverage:** {:.1} % of {} offenders blocked ({} range entries, {} single entries; {} clients seen in the windows the decision holds, where `distinct_clients` counts every client the run read)",
            a.coverage * 100.0,
            int(a.offenders),
            int(a.range_entries),
            int(a.single_entries),
            int(a.clients_seen)
        );
        if r.summary.late > 0 {
            let _ = writeln!(
                o,
                "- **Late:** {} records arrived late and were not counted: offenders among them are not in these figures",
                int(r.summary.late)
            );
        }
        let held: Vec<String> = a
            .held_back
            .iter()
            .map(|(k, n)| format!("{} {}", int(*n), md_code(k)))
            .collect();
        let _ = writeln!(
            o,
            "- **Held back:** {}",
            if held.is_empty() {
                "none".into()
            } else {
                held.join(", ")
            }
        );
        let _ = writeln!(o, "- **By rule:** {}", counts(&a.by_rule));
        let _ = writeln!(o, "- **By country:** {}", counts(&a.by_country));
    }

    if !r.ranges.is_empty() {
        let _ = writeln!(o, "\n## Range bans ({})\n", int(r.ranges.len() as u64));
        table(
            &mut o,
            caps.rows,
            &[
                "network",
                "offenders",
                "clients seen",
                "share",
                "rule",
                "until",
                "status",
            ],
            r.ranges.iter().map(|x| {
                vec![
                    cell(&x.cidr),
                    int(x.members),
                    int(x.clients_seen),
                    format!("{:.0} %", x.share * 100.0),
                    cell(&x.rule),
                    cell(&text::time(&x.until)),
                    if x.blocked {
                        "blocked"
                    } else {
                        "left out (max_entries)"
                    }
                    .to_string(),
                ]
            }),
        );
    }

    let _ = writeln!(o, "\n## Bans ({})\n", int(r.bans.len() as u64));
    table(
        &mut o,
        caps.bans,
        &[
            "CIDR",
            "rule",
            "offences",
            "since",
            "until",
            "status",
            "peak / limit",
            "country",
            "top paths",
            "top user agents",
        ],
        r.bans.iter().map(|b| {
            let mut status = vec![if let Some(range) = &b.range {
                format!("in range {}", md_cell(range))
            } else if b.blocked {
                "blocked".into()
            } else if b.active {
                "active, not blocked".into()
            } else {
                "expired".into()
            }];
            if b.new {
                status.push("new".into());
            }
            let sev = b.peak as f64 / b.limit.max(1) as f64;
            vec![
                cell(&b.cidr),
                cell(&b.rules.join(", ")),
                int(b.offences.into()),
                cell(&text::time(&b.since)),
                cell(&text::time(&b.until)),
                status.join(", "),
                format!(
                    "{} / {} ({})",
                    int(b.peak.into()),
                    int(b.limit.into()),
                    text::ratio(sev)
                ),
                b.country.as_deref().map_or("–".into(), code),
                top(&b.top_paths),
                top(&b.top_user_agents),
            ]
        }),
    );

    let _ = writeln!(o, "\n## Blocklist\n");
    list(&mut o, caps.rows * 3, "IPv4", &r.blocklist.ipv4);
    list(&mut o, caps.rows * 3, "IPv6", &r.blocklist.ipv6);
    let _ = writeln!(o, "\n### Dropped ({})\n", int(r.dropped.len() as u64));
    table(
        &mut o,
        caps.rows,
        &["CIDR", "rule", "reason", "severity", "until"],
        r.dropped.iter().map(|d| {
            vec![
                cell(&d.cidr),
                cell(&d.rule),
                cell(&d.reason),
                text::ratio(d.severity),
                cell(&text::time(&d.until)),
            ]
        }),
    );

    o.push_str("\n## Changes since the previous decision\n\n");
    list(&mut o, caps.rows * 3, "Added", &r.changes.added);
    list(&mut o, caps.rows * 3, "Removed", &r.changes.removed);

    rules_and_input(&mut o, r, caps);
    o
}

fn summary(o: &mut String, r: &Report) {
    let s = &r.summary;
    o.push_str("## Summary\n\n");
    let events = match (&s.first_event, &s.last_event) {
        (Some(a), Some(b)) => format!(
            "{} → {} UTC{}",
            cell(&text::time(a)),
            cell(&text::time(b)),
            text::span(a, b)
                .map(|x| format!(" ({x})"))
                .unwrap_or_default()
        ),
        _ => "none".into(),
    };
    let lines = [
        format!("**Records:** {} from {} files ({} incomplete, {} skipped as already processed); {} read, {} decoded", int(s.records), int(s.files), int(s.incomplete_files), int(s.skipped_files), text::bytes(s.bytes), text::bytes(s.bytes_decoded)),
        format!("**Rejected lines:** {} · **late records:** {} · **allowlisted requests:** {}", int(s.rejected), int(s.late), int(s.allowlisted)),
        format!("**Distinct clients:** {}", int(s.distinct_clients)),
        format!("**Events:** {events}"),
        format!("**Bans:** {} active ({} new), {} within memory", int(s.bans_active), int(s.bans_new), int(s.bans_total)),
        format!("**Blocklist:** {} entries ({} IPv4, {} IPv6), {} dropped", int(s.blocklist_entries), int(r.blocklist.ipv4.len() as u64), int(r.blocklist.ipv6.len() as u64), int(r.dropped.len() as u64)),
    ];
    for l in lines {
        let _ = writeln!(o, "- {l}");
    }
}

fn near_misses(o: &mut String, r: &Report, caps: Caps) {
    if r.near_misses.is_empty() {
        return;
    }
    o.push_str("\n## Near misses\n\nClients that reached half a rule's limit or more without offending it: what a lower limit would catch.\n\n");
    table(
        o,
        caps.rows,
        &["rule", "client", "peak / limit", "of limit"],
        r.near_misses.iter().map(|n| {
            vec![
                cell(&n.rule),
                code(&n.cidr),
                format!("{} / {}", int(n.peak.into()), int(n.limit.into())),
                format!(
                    "{:.0} %",
                    f64::from(n.peak) * 100.0 / f64::from(n.limit.max(1))
                ),
            ]
        }),
    );
}

fn rules_and_input(o: &mut String, r: &Report, caps: Caps) {
    near_misses(o, r, caps);
    o.push_str("\n## Rules\n\n");
    table(
        o,
        64,
        &["rule", "window", "limit", "counts", "keys tracked", "bans"],
        r.rules.iter().map(|x| {
            vec![
                cell(&x.name),
                cell(&x.window),
                int(x.limit.into()),
                cell(&x.filters),
                int(x.keys_tracked),
                int(x.bans),
            ]
        }),
    );

    let _ = writeln!(
        o,
        "\n## Rejected input ({} lines)\n",
        int(r.rejected.total())
    );
    table(
        o,
        64,
        &["reason", "lines"],
        r.rejected
            .counts
            .iter()
            .map(|(k, n)| vec![k.as_str().to_string(), int(*n)]),
    );
    let _ = writeln!(o, "\n### Samples ({})\n", r.rejected.samples.len());
    table(
        o,
        caps.rows,
        &["file", "line", "reason", "detail", "excerpt"],
        r.rejected.samples.iter().map(|x| {
            vec![
                md_cell(&text::short_middle(&x.file, CELL)),
                int(x.line),
                x.reason.as_str().to_string(),
                code(&x.detail),
                code(&x.excerpt),
            ]
        }),
    );

    let _ = writeln!(o, "\n## Files ({})\n", int(r.files.len() as u64));
    table(
        o,
        caps.rows,
        &["path", "format", "records", "rejected", "bytes", "status"],
        r.files.iter().map(|f| {
            let status = if f.complete {
                "complete".to_string()
            } else {
                format!("damaged: {}", cell(f.damage.as_deref().unwrap_or("")))
            };
            vec![
                md_cell(&text::short_middle(&f.path, CELL + 20)),
                cell(f.format.as_deref().unwrap_or("unknown")),
                int(f.records),
                int(f.rejected),
                text::bytes(f.bytes),
                status,
            ]
        }),
    );
    if !r.skipped.is_empty() {
        o.push('\n');
        list(o, caps.rows, "Skipped as already processed", &r.skipped);
    }
}

/// One escaped, shortened cell (values floodgate wrote: CIDRs, rule names, times).
fn cell(s: &str) -> String {
    md_cell(&text::short(s, CELL))
}

/// A value from a log, shortened, as a code span.
fn code(s: &str) -> String {
    md_code(&text::short(s, CELL))
}

fn top(items: &[Counted]) -> String {
    let parts: Vec<String> = items
        .iter()
        .take(3)
        .map(|c| format!("{} ×{}", md_code(&text::short(&c.value, 40)), int(c.count)))
        .collect();
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join("; ")
    }
}

fn counts(items: &[Counted]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|c| format!("{} {}", md_code(&c.value), int(c.count)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A GFM table (or `_none_`), at most `max` rows.
fn table(
    o: &mut String,
    max: usize,
    headers: &[&str],
    rows: impl ExactSizeIterator<Item = Vec<String>>,
) {
    let total = rows.len();
    if total == 0 {
        o.push_str("_none_\n");
        return;
    }
    let _ = writeln!(o, "| {} |", headers.join(" | "));
    let _ = writeln!(o, "|{}", " --- |".repeat(headers.len()));
    for row in rows.take(max) {
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
    if total > max {
        let _ = writeln!(
            o,
            "\n… and {} more rows in report.json.",
            int((total - max) as u64)
        );
    }
}

/// `**Title (n):** a, b, c` with at most `max` entries.
fn list(o: &mut String, max: usize, title: &str, items: &[String]) {
    let shown: Vec<String> = items.iter().take(max).map(|c| cell(c)).collect();
    let more = if items.len() > max {
        format!(" … and {} more", int((items.len() - max) as u64))
    } else {
        String::new()
    };
    let body = if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(", ")
    };
    let _ = writeln!(
        o,
        "- **{title} ({}):** {body}{more}",
        int(items.len() as u64)
    );
}
