//! `report.md`: the report for a pull request, a ticket or a chat message.
//!
//! Plain CommonMark/GFM (headings, a summary list, tables), no HTML. Cells are escaped with
//! [`md_cell`] (pipes, backticks, `<`, newlines …) so a hostile user agent can neither break a
//! table row nor inject markup, and long values are cut so the tables stay readable; the full
//! values are in `report.json`. Long lists are capped so the file fits a PR comment.

use super::text::{self, int, md_cell};
use super::{Counted, Report};
use std::fmt::Write;

/// Longest value shown in a cell.
const CELL: usize = 60;
/// Rows shown per table before "… and N more".
const MAX_ROWS: usize = 100;

/// Render the report as Markdown. Never panics, whatever the report holds.
pub fn render(report: &Report) -> String {
    let r = report;
    let s = &r.summary;
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
        format!("**Blocklist:** {} entries ({} IPv4, {} IPv6), {} dropped", int(s.blocklist_entries), r.blocklist.ipv4.len(), r.blocklist.ipv6.len(), r.dropped.len()),
    ];
    for l in lines {
        let _ = writeln!(o, "- {l}");
    }

    let _ = writeln!(o, "\n## Bans ({})\n", r.bans.len());
    table(
        &mut o,
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
            let mut status = vec![if b.blocked {
                "blocked"
            } else if b.active {
                "active, not blocked"
            } else {
                "expired"
            }];
            if b.new {
                status.push("new");
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
                cell(b.country.as_deref().unwrap_or("–")),
                top(&b.top_paths),
                top(&b.top_user_agents),
            ]
        }),
    );

    let _ = writeln!(o, "\n## Blocklist\n");
    list(&mut o, "IPv4", &r.blocklist.ipv4);
    list(&mut o, "IPv6", &r.blocklist.ipv6);
    let _ = writeln!(o, "\n### Dropped ({})\n", r.dropped.len());
    table(
        &mut o,
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
    list(&mut o, "Added", &r.changes.added);
    list(&mut o, "Removed", &r.changes.removed);

    o.push_str("\n## Rules\n\n");
    table(
        &mut o,
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
        &mut o,
        &["reason", "lines"],
        r.rejected
            .counts
            .iter()
            .map(|(k, n)| vec![k.as_str().to_string(), int(*n)]),
    );
    let _ = writeln!(o, "\n### Samples ({})\n", r.rejected.samples.len());
    table(
        &mut o,
        &["file", "line", "reason", "detail", "excerpt"],
        r.rejected.samples.iter().map(|x| {
            vec![
                md_cell(&text::short_middle(&x.file, CELL)),
                int(x.line),
                x.reason.as_str().to_string(),
                cell(&x.detail),
                cell(&x.excerpt),
            ]
        }),
    );

    let _ = writeln!(o, "\n## Files ({})\n", r.files.len());
    table(
        &mut o,
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
        list(&mut o, "Skipped as already processed", &r.skipped);
    }
    o
}

/// One escaped, shortened cell.
fn cell(s: &str) -> String {
    md_cell(&text::short(s, CELL))
}

fn top(items: &[Counted]) -> String {
    let parts: Vec<String> = items
        .iter()
        .take(3)
        .map(|c| format!("{} ×{}", md_cell(&text::short(&c.value, 40)), int(c.count)))
        .collect();
    if parts.is_empty() {
        "–".into()
    } else {
        parts.join("; ")
    }
}

/// A GFM table (or `_none_`), at most [`MAX_ROWS`] rows.
fn table(o: &mut String, headers: &[&str], rows: impl ExactSizeIterator<Item = Vec<String>>) {
    let total = rows.len();
    if total == 0 {
        o.push_str("_none_\n");
        return;
    }
    let _ = writeln!(o, "| {} |", headers.join(" | "));
    let _ = writeln!(o, "|{}", " --- |".repeat(headers.len()));
    for row in rows.take(MAX_ROWS) {
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
    if total > MAX_ROWS {
        let _ = writeln!(
            o,
            "\n… and {} more rows in report.json.",
            int((total - MAX_ROWS) as u64)
        );
    }
}

/// `**Title (n):** a, b, c` with at most [`MAX_ROWS`] entries.
fn list(o: &mut String, title: &str, items: &[String]) {
    let shown: Vec<String> = items.iter().take(MAX_ROWS).map(|c| cell(c)).collect();
    let more = if items.len() > MAX_ROWS {
        format!(" … and {} more", int((items.len() - MAX_ROWS) as u64))
    } else {
        String::new()
    };
    let body = if shown.is_empty() {
        "none".to_string()
    } else {
        shown.join(", ")
    };
    let _ = writeln!(o, "- **{title} ({}):** {body}{more}", items.len());
}
