//! The sections of `report.html` that summarise an attack: the guardrail banner, coverage,
//! what held bans back, bans by rule and by country, bans started per minute, range bans.
//!
//! They read only aggregates and the first [`RANGES`] range bans, so their size does not grow
//! with the attack.

use super::html::{empty, end_table, num, panel, table, when};
use super::text::{html as esc, int};
use super::{svg, text, Counted, Report};
use std::fmt::Write;

/// A number fit for a coordinate or a sort key: non-finite values (a hand-edited report) are 0.
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Range bans shown in the table (most members first; all are in report.json).
const RANGES: usize = 200;

/// A prominent notice when the broken-rule guardrail stopped a rule.
pub fn guardrail_banner(o: &mut String, r: &Report) {
    if r.guardrail.is_empty() {
        return;
    }
    o.push_str("<div class=\"banner alert\" role=\"alert\"><b>Guardrail tripped.</b> ");
    for (i, t) in r.guardrail.iter().enumerate() {
        let _ = write!(
            o,
            "{}{}: its {} new ban(s) are held back (dropped, reason <span class=\"mono\">guardrail</span>).",
            if i > 0 { " " } else { "" },
            esc(&t.why),
            int(t.held_back)
        );
    }
    o.push_str(" A rule that bans most clients is more likely broken than under attack: check it, or raise <span class=\"mono\">ban.guardrail.max_share</span>.</div>");
}

fn counted_table(o: &mut String, name: &str, what: &str, items: &[Counted], total: u64) {
    table(o, name, &[what, "Active bans#", "Share#"]);
    for c in items {
        let _ = write!(o, "<tr><td class=\"mono\">{}</td>", esc(&c.value));
        num(o, c.count, &int(c.count));
        let share = finite(c.count as f64 / total.max(1) as f64);
        num(
            o,
            format_args!("{share:.4}"),
            &format!("{:.1} %", share * 100.0),
        );
        o.push_str("</tr>");
    }
    end_table(o);
}

/// Coverage, entries, what was held back, bans by rule and country, arrival of the bans.
pub fn attack(o: &mut String, r: &Report) {
    let a = &r.attack;
    panel(o, "attack", "The attack at a glance", "Offenders are keys with an active ban. The blocklist covers them with single entries or with range bans (one entry for a whole network).");
    if a.offenders == 0 {
        empty(o, "No active bans.");
        o.push_str("</section>");
        return;
    }
    let pct = finite(a.coverage) * 100.0;
    let _ = write!(
        o,
        "<div class=\"coverage\"><svg class=\"coverbar\" viewBox=\"0 0 100 4\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"coverage\"><rect class=\"bg\" width=\"100\" height=\"4\"/><rect class=\"fg\" width=\"{:.2}\" height=\"4\"/></svg><p><b>{pct:.1} %</b> of {} offenders are blocked: {} by {} range entries, {} by single entries, out of {} clients seen in the windows the decision holds (offenders and the clients of the last longest window plus lateness; the Distinct clients card counts every client this run read).</p></div>",
        pct.clamp(0.0, 100.0),
        int(a.offenders),
        int(a.blocked - a.single_entries.min(a.blocked)),
        int(a.range_entries),
        int(a.single_entries),
        int(a.clients_seen)
    );
    if r.summary.late > 0 {
        let _ = write!(
            o,
            "<p class=\"banner\">{} records arrived late and were not counted: offenders among them are not in these figures (see Late records in the summary).</p>",
            int(r.summary.late)
        );
    }
    o.push_str("<div class=\"grid2\"><div><h3>Held back</h3>");
    if a.held_back.is_empty() {
        empty(o, "Nothing: every active ban is blocked.");
    } else {
        table(o, "held", &["Reason", "Bans#"]);
        for (reason, n) in &a.held_back {
            let _ = write!(o, "<tr><td class=\"mono\">{}</td>", esc(reason));
            num(o, n, &int(*n));
            o.push_str("</tr>");
        }
        end_table(o);
    }
    o.push_str("<h3>By rule</h3>");
    counted_table(o, "by-rule", "Rule", &a.by_rule, a.offenders);
    o.push_str("</div><div><h3>By country</h3>");
    counted_table(o, "by-country", "Country", &a.by_country, a.offenders);
    o.push_str("</div></div>");
    if let Some(chart) = svg::bars(&r.timeline.bans_per_minute, "bans started / min") {
        o.push_str("<h3>Bans started per minute (UTC)</h3>");
        o.push_str(&chart);
    }
    o.push_str("</section>");
}

/// Range bans, most members first.
pub fn ranges(o: &mut String, r: &Report) {
    let title = format!("Range bans ({})", int(r.ranges.len() as u64));
    panel(o, "ranges", &title, "Networks whose offenders are many and nearly all of the clients seen in them, banned as one entry (ban.ranges). Networks where ordinary clients are a real share, such as a carrier NAT, are never banned whole.");
    if r.ranges.is_empty() {
        empty(o, "No network was banned whole.");
    } else {
        table(
            o,
            "ranges",
            &[
                "Network",
                "Offenders#",
                "Clients seen#",
                "Share#",
                "Rule",
                "Severity#",
                "Since",
                "Until",
                "Status",
            ],
        );
        for x in r.ranges.iter().take(RANGES) {
            let _ = write!(o, "<tr><td class=\"mono\">{}</td>", esc(&x.cidr));
            num(o, x.members, &int(x.members));
            num(o, x.clients_seen, &int(x.clients_seen));
            num(
                o,
                finite(x.share),
                &format!("{:.0} %", finite(x.share) * 100.0),
            );
            let _ = write!(o, "<td class=\"mono\">{}</td>", esc(&x.rule));
            num(o, finite(x.severity), &text::ratio(x.severity));
            when(o, &x.since);
            when(o, &x.until);
            let status = match (x.blocked, x.new) {
                (true, true) => "<span class=\"badge blocked\">blocked</span><span class=\"badge new\">new</span>",
                (true, false) => "<span class=\"badge blocked\">blocked</span>",
                (false, _) => "<span class=\"badge dropped\">left out (max_entries)</span>",
            };
            let _ = write!(o, "<td>{status}</td></tr>");
        }
        end_table(o);
        if r.ranges.len() > RANGES {
            let _ = write!(
                o,
                "<p class=\"lead\">… and {} more in report.json (ranges).</p>",
                int((r.ranges.len() - RANGES) as u64)
            );
        }
    }
    o.push_str("</section>");
}

/// Near misses: clients at half a rule's limit or more without an offence (tuning).
pub fn near_misses(o: &mut String, r: &Report) {
    let title = format!("Near misses ({})", int(r.near_misses.len() as u64));
    panel(o, "near-misses", &title, "Clients that reached half a rule's limit or more without offending it: what a lower limit would catch, and who they are. Try a change on these logs with floodgate compare.");
    if r.near_misses.is_empty() {
        empty(o, "No client reached half a limit without offending.");
    } else {
        table(
            o,
            "near-misses",
            &["Rule", "Client", "Peak#", "Limit#", "Of limit#"],
        );
        for n in &r.near_misses {
            let share = f64::from(n.peak) / f64::from(n.limit.max(1));
            let _ = write!(
                o,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td>",
                esc(&n.rule),
                esc(&n.cidr)
            );
            num(o, n.peak, &int(n.peak.into()));
            num(o, n.limit, &int(n.limit.into()));
            num(o, finite(share), &format!("{:.0} %", finite(share) * 100.0));
            o.push_str("</tr>");
        }
        end_table(o);
    }
    o.push_str("</section>");
}
