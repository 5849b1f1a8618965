//! `report.html`: the report as one self-contained page a person can read on a laptop or print.
//!
//! Inline CSS, inline SVG charts and a small inline script (sortable, filterable tables); no
//! network, fonts, images or external scripts, so the file can be mailed, attached to a ticket
//! or opened from an S3 console. Log data is attacker-controlled: it only ever enters the page
//! as escaped text ([`text::html`]), never inside attributes or code, and a Content-Security-
//! Policy allows exactly the page's own style and script (by hash) and nothing from the network.

use super::{csp, html_attack, svg, text};
use super::{BanEntry, Counted, Report, DETAIL_BANS, HTML_LIST};
use std::fmt::Write;
use text::{html as esc, int};

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");
/// Bars in the top-offenders chart.
const OFFENDERS: usize = 15;
/// Longest value (user agent, path, detail) shown; the full value is in `report.json`.
const MAX_TEXT: usize = 240;

/// Render the report as one self-contained HTML page (see the module docs for what it holds).
/// Never panics, whatever the report holds. The page stays a few MB at most at any number of
/// bans: long lists show their first entries (the most severe bans) and say how many more are
/// in report.json and the blocklist files.
pub fn render(report: &Report) -> String {
    let mut o = String::with_capacity(
        96 * 1024
            + report.files.len().min(HTML_LIST) * 400
            + report.bans.len().min(DETAIL_BANS) * 900,
    );
    head(&mut o, report);
    o.push_str("<main>");
    if report.dry_run {
        o.push_str("<div class=\"banner\" role=\"status\">Dry run: bans were decided and reported, but no IP set was changed.</div>");
    }
    html_attack::guardrail_banner(&mut o, report);
    cards(&mut o, report);
    html_attack::attack(&mut o, report);
    timeline(&mut o, report);
    offenders(&mut o, report);
    html_attack::ranges(&mut o, report);
    bans(&mut o, report);
    blocklist(&mut o, report);
    changes(&mut o, report);
    rules(&mut o, report);
    html_attack::near_misses(&mut o, report);
    rejected(&mut o, report);
    files(&mut o, report);
    let _ = writeln!(
        o,
        "<footer>{} · schema {} · a self-contained file: it loads nothing from the network.</footer></main><script>{JS}</script></body></html>",
        esc(&report.generator),
        esc(&report.schema)
    );
    o
}

fn head(o: &mut String, r: &Report) {
    let csp = format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        csp::hash_source(CSS),
        csp::hash_source(JS)
    );
    let now = text::time(&r.now);
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>floodgate report · {}</title><style>{CSS}</style></head><body>\
         <header class=\"top\"><div class=\"inner\"><div class=\"brand\"><span class=\"mark\"></span><h1>floodgate report</h1></div>\
         <div class=\"meta\">Decision time <b>{} UTC</b> · {}",
        esc(&now),
        esc(&now),
        event_range(r).map_or("no events".into(), |(range, span)| format!("events {range} ({span})"))
    );
    if r.dry_run {
        o.push_str(" · <b>dry run</b>");
    }
    o.push_str("</div><nav class=\"toc\">");
    for (id, name) in [
        ("attack", "Attack"),
        ("timeline", "Timeline"),
        ("offenders", "Top offenders"),
        ("ranges", "Ranges"),
        ("bans", "Bans"),
        ("blocklist", "Blocklist"),
        ("changes", "Changes"),
        ("rules", "Rules"),
        ("near-misses", "Near misses"),
        ("rejected", "Rejected input"),
        ("files", "Files"),
    ] {
        let _ = write!(o, "<a href=\"#{id}\">{name}</a>");
    }
    o.push_str("</nav></div></header>");
}

/// `2026-11-02 08:00:00 → 09:59:59 UTC` (escaped) and the span (`2h`), if there were events.
fn event_range(r: &Report) -> Option<(String, String)> {
    let (a, b) = (
        r.summary.first_event.as_ref()?,
        r.summary.last_event.as_ref()?,
    );
    let (ta, tb) = (text::time(a), text::time(b));
    let tb = match (ta.get(..11), tb.get(..11)) {
        (Some(da), Some(db)) if da == db && ta.len() > 11 => tb[11..].to_string(),
        _ => tb,
    };
    let span = text::span(a, b).unwrap_or_else(|| "–".into());
    Some((format!("{} → {} UTC", esc(&ta), esc(&tb)), esc(&span)))
}

/// A time cell: the date small above the clock, so time columns stay narrow.
pub(super) fn when(o: &mut String, t: &str) {
    let t = text::time(t);
    match t.split_once(' ') {
        Some((day, clock)) => {
            let _ = write!(
                o,
                "<td class=\"nowrap\"><span class=\"day\">{} </span>{}</td>",
                esc(day),
                esc(clock)
            );
        }
        None => {
            let _ = write!(o, "<td>{}</td>", esc(&t));
        }
    }
}

fn card(o: &mut String, class: &str, key: &str, value: &str, sub: &str) {
    let _ = write!(
        o,
        "<div class=\"card {class}\"><div class=\"k\">{key}</div><div class=\"v\">{value}</div><div class=\"s\">{sub}</div></div>"
    );
}

fn cards(o: &mut String, r: &Report) {
    let s = &r.summary;
    let flag = |bad: bool, class: &'static str| if bad { class } else { "" };
    o.push_str("<section class=\"cards\" aria-label=\"Summary\">");
    card(
        o,
        "",
        "Records",
        &int(s.records),
        &format!(
            "{} read · {} decoded",
            text::bytes(s.bytes),
            text::bytes(s.bytes_decoded)
        ),
    );
    card(
        o,
        flag(s.incomplete_files > 0, "warn"),
        "Files",
        &int(s.files),
        &format!(
            "{} incomplete · {} skipped",
            int(s.incomplete_files),
            int(s.skipped_files)
        ),
    );
    card(
        o,
        flag(s.rejected > 0, "warn"),
        "Rejected lines",
        &int(s.rejected),
        &format!("{} reasons", r.rejected.counts.len()),
    );
    card(
        o,
        flag(s.late > 0, "warn"),
        "Late records",
        &int(s.late),
        "older than their source's lateness allows",
    );
    card(
        o,
        "",
        "Distinct clients",
        &int(s.distinct_clients),
        &format!(
            "read in this run · {} allowlisted requests",
            int(s.allowlisted)
        ),
    );
    card(
        o,
        flag(s.bans_active > 0, "alert"),
        "Bans active",
        &int(s.bans_active),
        &format!(
            "{} new · {} within memory",
            int(s.bans_new),
            int(s.bans_total)
        ),
    );
    let dropped = if r.dropped.is_empty() {
        String::new()
    } else {
        format!(" · {} dropped", r.dropped.len())
    };
    card(
        o,
        flag(!r.dropped.is_empty(), "warn"),
        "Blocklist entries",
        &int(s.blocklist_entries),
        &format!(
            "{} IPv4 · {} IPv6{dropped}",
            r.blocklist.ipv4.len(),
            r.blocklist.ipv6.len()
        ),
    );
    let (range, span) = event_range(r).unwrap_or_else(|| ("no events".into(), "–".into()));
    card(o, "", "Event time span", &span, &range);
    o.push_str("</section>");
}

pub(super) fn panel(o: &mut String, id: &str, title: &str, lead: &str) {
    let _ = write!(o, "<section class=\"panel\" id=\"{id}\"><h2>{title}</h2>");
    if !lead.is_empty() {
        let _ = write!(o, "<p class=\"lead\">{lead}</p>");
    }
}

pub(super) fn empty(o: &mut String, msg: &str) {
    let _ = write!(o, "<p class=\"empty\">{msg}</p>");
}

fn timeline(o: &mut String, r: &Report) {
    let t = &r.timeline;
    panel(o, "timeline", "Requests per minute", "Every request read in this run, per minute of event time (UTC). Red markers: a ban starts (hover for the CIDR).");
    match svg::timeline(&t.requests_per_minute, &t.ban_starts) {
        Some(chart) => {
            o.push_str(&chart);
            let (lo, hi) = (
                t.requests_per_minute.iter().map(|p| p.0).min().unwrap_or(0),
                t.requests_per_minute
                    .iter()
                    .map(|p| p.0)
                    .max()
                    .unwrap_or(0)
                    .saturating_add(60_000),
            );
            let outside = t.ban_starts.iter().filter(|b| b.0 < lo || b.0 > hi).count();
            if outside > 0 {
                let _ = write!(
                    o,
                    "<p class=\"lead\">{} ban(s) started outside this period (earlier runs).</p>",
                    int(outside as u64)
                );
            }
        }
        None => empty(o, "No requests in this run."),
    }
    o.push_str("</section>");
}

fn offenders(o: &mut String, r: &Report) {
    let lead = format!(
        "Highest request count in one window of the rule, as a multiple of the rule's limit (dashed line). {} of {} bans, most severe first.",
        r.bans.len().min(OFFENDERS),
        r.bans.len()
    );
    panel(o, "offenders", "Top offenders", &lead);
    match svg::offenders(&r.bans, OFFENDERS) {
        Some(chart) => {
            o.push_str(&chart);
            o.push_str("<div class=\"legend\"><span><i class=\"sw blocked\"></i>blocked</span><span><i class=\"sw dropped\"></i>active, left out of the blocklist</span><span><i class=\"sw expired\"></i>expired</span></div>");
        }
        None => empty(o, "No client went over a limit."),
    }
    o.push_str("</section>");
}

/// Open a sortable table; headers ending in `#` are numeric (right-aligned, sorted as numbers).
pub(super) fn table(o: &mut String, name: &str, headers: &[&str]) {
    let _ = write!(
        o,
        "<div class=\"scroll\"><table class=\"sortable\" data-name=\"{name}\"><thead><tr>"
    );
    for h in headers {
        match h.strip_suffix('#') {
            Some(h) => {
                let _ = write!(o, "<th class=\"n\" data-type=\"num\">{h}</th>");
            }
            None => {
                let _ = write!(o, "<th>{h}</th>");
            }
        }
    }
    o.push_str("</tr></thead><tbody>");
}

pub(super) fn end_table(o: &mut String) {
    o.push_str("</tbody></table></div>");
}

/// A numeric cell: shown formatted, sorted by the raw value.
pub(super) fn num(o: &mut String, sort: impl std::fmt::Display, shown: &str) {
    let _ = write!(o, "<td class=\"n\" data-sort=\"{sort}\">{shown}</td>");
}

/// Escaped text with a line-break opportunity after each path or query separator, so a long
/// path wraps at `/` rather than mid-word. Only after characters that never occur inside an
/// entity (`&lt;`, `&#39;`), so the escaping is left whole.
fn breakable(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len() + escaped.len() / 8);
    for ch in escaped.chars() {
        out.push(ch);
        if matches!(ch, '/' | '?' | '=' | ',') {
            out.push_str("<wbr>");
        }
    }
    out
}

fn counted(o: &mut String, items: &[Counted], paths: bool) {
    o.push_str("<td><ul class=\"counted\">");
    for c in items {
        let _ = write!(
            o,
            "<li><span class=\"c\">{}</span><span class=\"mono\">{}</span></li>",
            int(c.count),
            if paths {
                breakable(&esc(&text::short(&c.value, MAX_TEXT)))
            } else {
                esc(&text::short(&c.value, MAX_TEXT))
            }
        );
    }
    o.push_str("</ul></td>");
}

fn status(b: &BanEntry) -> String {
    let mut s = String::new();
    if let Some(range) = &b.range {
        let _ = write!(
            s,
            "<span class=\"badge blocked\">in range {}</span>",
            esc(range)
        );
    } else if b.blocked {
        s.push_str("<span class=\"badge blocked\">blocked</span>");
    } else if b.active {
        s.push_str("<span class=\"badge dropped\">active, not blocked</span>");
    } else {
        s.push_str("<span class=\"badge expired\">expired</span>");
    }
    if b.new {
        s.push_str("<span class=\"badge new\">new</span>");
    }
    s
}

fn bans(o: &mut String, r: &Report) {
    let title = format!("Bans ({})", int(r.bans.len() as u64));
    let lead = if r.bans.len() > DETAIL_BANS {
        format!("The {DETAIL_BANS} most severe of {} clients with an offence within the ban memory (every one is in report.json). Times in UTC. Click a header to sort.", int(r.bans.len() as u64))
    } else {
        "Every client with an offence within the ban memory, most severe first. Times in UTC. Click a header to sort.".to_string()
    };
    panel(o, "bans", &title, &lead);
    if r.bans.is_empty() {
        empty(o, "No bans.");
    } else {
        table(
            o,
            "bans",
            &[
                "CIDR",
                "Rule",
                "Offences#",
                "Since",
                "Until",
                "Peak / limit#",
                "Country",
                "Top paths",
                "Top user agents",
            ],
        );
        for b in r.bans.iter().take(DETAIL_BANS) {
            let _ = write!(
                o,
                "<tr><td class=\"nowrap\"><span class=\"mono\">{}</span><br>{}</td><td>{}",
                esc(&b.cidr),
                status(b),
                esc(&b.rule)
            );
            let others: Vec<&str> = b
                .rules
                .iter()
                .filter(|x| **x != b.rule)
                .map(String::as_str)
                .collect();
            if !others.is_empty() {
                let _ = write!(
                    o,
                    "<br><span class=\"muted\">also {}</span>",
                    esc(&others.join(", "))
                );
            }
            o.push_str("</td>");
            num(o, b.offences, &int(b.offences.into()));
            when(o, &b.since);
            when(o, &b.until);
            let sev = b.peak as f64 / b.limit.max(1) as f64;
            num(
                o,
                format_args!("{sev:.4}"),
                &format!(
                    "{} / {}<br><span class=\"sev\">{}</span>",
                    int(b.peak.into()),
                    int(b.limit.into()),
                    text::ratio(sev)
                ),
            );
            let _ = write!(o, "<td>{}</td>", esc(b.country.as_deref().unwrap_or("–")));
            counted(o, &b.top_paths, true);
            counted(o, &b.top_user_agents, false);
            o.push_str("</tr>");
        }
        end_table(o);
    }
    o.push_str("</section>");
}

fn cidr_list(o: &mut String, title: &str, items: &[String], class: &str, rest_in: &str) {
    let _ = write!(o, "<div><h3>{title} ({})</h3>", int(items.len() as u64));
    if items.is_empty() {
        empty(o, "none");
    } else {
        let _ = write!(o, "<ul class=\"cidrs {class}\">");
        for c in items.iter().take(HTML_LIST) {
            let _ = write!(o, "<li>{}</li>", esc(c));
        }
        o.push_str("</ul>");
        more(o, items.len(), rest_in);
    }
    o.push_str("</div>");
}

/// "… and N more in FILE" under a list cut at [`HTML_LIST`].
fn more(o: &mut String, total: usize, rest_in: &str) {
    if total > HTML_LIST {
        let _ = write!(
            o,
            "<p class=\"lead\">… and {} more in {rest_in}.</p>",
            int((total - HTML_LIST) as u64)
        );
    }
}

fn blocklist(o: &mut String, r: &Report) {
    let title = format!(
        "Blocklist ({})",
        r.blocklist.ipv4.len() + r.blocklist.ipv6.len()
    );
    panel(o, "blocklist", &title, "What the WAF IP sets should hold (adjacent CIDRs merged), as written to blocklist-ipv4.txt and blocklist-ipv6.txt.");
    o.push_str("<div class=\"grid2\">");
    cidr_list(o, "IPv4", &r.blocklist.ipv4, "", "blocklist-ipv4.txt");
    cidr_list(o, "IPv6", &r.blocklist.ipv6, "", "blocklist-ipv6.txt");
    o.push_str("</div>");
    let _ = write!(o, "<h3>Dropped ({})</h3>", r.dropped.len());
    if r.dropped.is_empty() {
        empty(o, "Nothing dropped: every active ban is in the blocklist.");
    } else {
        table(
            o,
            "dropped",
            &["CIDR", "Rule", "Reason", "Severity#", "Until"],
        );
        for d in r.dropped.iter().take(HTML_LIST) {
            let _ = write!(
                o,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td>",
                esc(&d.cidr),
                esc(&d.rule),
                esc(&d.reason)
            );
            let sev = if d.severity.is_finite() {
                d.severity
            } else {
                0.0
            };
            num(o, sev, &text::ratio(d.severity));
            when(o, &d.until);
            o.push_str("</tr>");
        }
        end_table(o);
        more(o, r.dropped.len(), "report.json (dropped)");
    }
    o.push_str("</section>");
}

fn changes(o: &mut String, r: &Report) {
    panel(o, "changes", "Changes since the previous decision", "");
    o.push_str("<div class=\"grid2\">");
    cidr_list(
        o,
        "Added",
        &r.changes.added,
        "added",
        "report.json (changes)",
    );
    cidr_list(
        o,
        "Removed",
        &r.changes.removed,
        "removed",
        "report.json (changes)",
    );
    o.push_str("</div></section>");
}

fn rules(o: &mut String, r: &Report) {
    panel(
        o,
        "rules",
        "Rules",
        "An offence is a window count that exceeds the limit.",
    );
    if r.rules.is_empty() {
        empty(o, "No rules configured.");
    } else {
        table(
            o,
            "rules",
            &[
                "Rule",
                "Window",
                "Limit#",
                "Counts",
                "Keys tracked#",
                "Bans#",
            ],
        );
        for x in &r.rules {
            let _ = write!(
                o,
                "<tr><td class=\"mono\">{}</td><td>{}</td>",
                esc(&x.name),
                esc(&x.window)
            );
            num(o, x.limit, &int(x.limit.into()));
            let _ = write!(o, "<td class=\"wrap\">{}</td>", esc(&x.filters));
            num(o, x.keys_tracked, &int(x.keys_tracked));
            num(o, x.bans, &int(x.bans));
            o.push_str("</tr>");
        }
        end_table(o);
    }
    o.push_str("</section>");
}

fn rejected(o: &mut String, r: &Report) {
    let title = format!("Rejected input ({} lines)", int(r.rejected.total()));
    panel(o, "rejected", &title, "Lines that could not be read are counted by reason and never stop a run; the first few of each reason are kept as samples.");
    if r.rejected.counts.is_empty() && r.rejected.samples.is_empty() {
        empty(o, "Every line was read.");
        o.push_str("</section>");
        return;
    }
    table(o, "reasons", &["Reason", "Lines#"]);
    for (reason, n) in &r.rejected.counts {
        let _ = write!(o, "<tr><td class=\"mono\">{}</td>", esc(reason.as_str()));
        num(o, n, &int(*n));
        o.push_str("</tr>");
    }
    end_table(o);
    let _ = write!(o, "<h3>Samples ({})</h3>", r.rejected.samples.len());
    table(
        o,
        "samples",
        &["File", "Line#", "Reason", "Detail", "Excerpt"],
    );
    for s in &r.rejected.samples {
        let _ = write!(
            o,
            "<tr><td class=\"wrap mono\">{}</td>",
            esc(&text::short_middle(&s.file, MAX_TEXT))
        );
        num(o, s.line, &int(s.line));
        let _ = write!(
            o,
            "<td class=\"mono\">{}</td><td class=\"wrap\">{}</td><td><code class=\"excerpt\">{}</code></td></tr>",
            esc(s.reason.as_str()),
            esc(&text::short(&s.detail, MAX_TEXT)),
            esc(&text::short(&s.excerpt, MAX_TEXT))
        );
    }
    end_table(o);
    o.push_str("</section>");
}

fn files(o: &mut String, r: &Report) {
    let title = format!("Files ({})", int(r.files.len() as u64));
    panel(o, "files", &title, "Every log object read in this run.");
    if r.files.is_empty() {
        empty(o, "No files were read.");
    } else {
        table(
            o,
            "files",
            &[
                "Path",
                "Format",
                "Records#",
                "Rejected#",
                "Bytes#",
                "Events (UTC)",
                "Status",
            ],
        );
        for f in r.files.iter().take(HTML_LIST) {
            let _ = write!(
                o,
                "<tr><td class=\"wrap mono\">{}</td><td>{}{}</td>",
                esc(&f.path),
                esc(f.format.as_deref().unwrap_or("unknown")),
                if f.gzip {
                    " <span class=\"muted\">gz</span>"
                } else {
                    ""
                }
            );
            num(o, f.records, &int(f.records));
            num(o, f.rejected, &int(f.rejected));
            num(o, f.bytes, &text::bytes(f.bytes));
            let first = f.first_event.as_deref().map(text::time).unwrap_or_default();
            let last = f.last_event.as_deref().map(text::time).unwrap_or_default();
            let last = match (first.get(..11), last.get(11..)) {
                (Some(d), Some(clock)) if last.starts_with(d) => clock.to_string(),
                _ => last,
            };
            let _ = write!(
                o,
                "<td class=\"nowrap\">{} → {}</td><td>",
                esc(&first),
                esc(&last)
            );
            if f.complete {
                o.push_str("<span class=\"badge ok\">complete</span>");
            } else {
                let _ = write!(
                    o,
                    "<span class=\"badge bad\">damaged</span> {}",
                    esc(f.damage.as_deref().unwrap_or(""))
                );
            }
            o.push_str("</td></tr>");
        }
        end_table(o);
        more(o, r.files.len(), "report.json (files)");
    }
    if !r.skipped.is_empty() {
        let _ = write!(
            o,
            "<h3>Skipped as already processed ({})</h3><ul class=\"cidrs\">",
            int(r.skipped.len() as u64)
        );
        for s in r.skipped.iter().take(HTML_LIST) {
            let _ = write!(o, "<li>{}</li>", esc(s));
        }
        o.push_str("</ul>");
        more(o, r.skipped.len(), "report.json (skipped)");
    }
    o.push_str("</section>");
}
