//! The notification of one run: a subject and a short plain-text body a person reads on a phone
//! (an SNS e-mail, a chat message), sent when bans were added, a guardrail tripped or a sink
//! failed. One per run however many bans; never longer than [`MAX_BODY`] bytes.
//!
//! Values from logs never appear in it (no paths, no user agents): only CIDRs, rule names,
//! counts and times floodgate wrote, so a notification cannot carry an attacker's text.

use crate::config::Config;
use crate::decision::Decision;
use crate::report::text::int;
use crate::state::State;
use crate::timefmt::format_rfc3339_ms;
use std::fmt::Write;

/// Longest body (SNS allows 256 KB; this stays readable and leaves room for retries merged in).
pub const MAX_BODY: usize = 16 * 1024;
/// Longest subject (SNS e-mail subjects are at most 100 characters).
pub const MAX_SUBJECT: usize = 100;
/// Worst bans and largest ranges listed.
const LISTED: usize = 10;

/// One run's notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// One line, at most [`MAX_SUBJECT`] characters.
    pub subject: String,
    /// Plain text, at most [`MAX_BODY`] bytes.
    pub body: String,
}

/// What happened besides the decision, as the front end knows it.
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    /// Where the run's reports are (`s3://bucket/prefix/runs/…/`), if written.
    pub reports: Option<&'a str>,
    /// Sinks that failed in this run, with the reason (`ip-sets: GetIPSet …`).
    pub failures: &'a [String],
    /// Decided and reported only; no IP set was touched.
    pub dry_run: bool,
}

/// The notification of `decision`, or `None` when there is nothing to tell (no ban added, no
/// guardrail tripped, no failure).
pub fn render(config: &Config, state: &State, d: &Decision, cx: &Context<'_>) -> Option<Notice> {
    let new_bans: Vec<_> = d.bans.iter().filter(|b| b.new && b.active).collect();
    let added = d.changes.added.len();
    if added == 0 && d.tripped.is_empty() && cx.failures.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    if added > 0 {
        parts.push(format!("{} new ban(s)", int(new_bans.len() as u64)));
    }
    if !d.tripped.is_empty() {
        parts.push("guardrail tripped".into());
    }
    if !cx.failures.is_empty() {
        parts.push(format!("{} sink failure(s)", cx.failures.len()));
    }
    let mut subject = format!(
        "floodgate{}: {}",
        if cx.dry_run { " (dry run)" } else { "" },
        parts.join(", ")
    );
    if subject.chars().count() > MAX_SUBJECT {
        subject = subject.chars().take(MAX_SUBJECT - 1).collect::<String>() + "…";
    }

    let mut b = String::new();
    let active = d.bans.iter().filter(|b| b.active).count() as u64;
    let _ = writeln!(b, "Decision at {} UTC.", format_rfc3339_ms(d.now_ms));
    if cx.dry_run {
        let _ = writeln!(b, "DRY RUN: bans were decided, no IP set was changed.");
    }
    let _ = writeln!(
        b,
        "Blocklist: {} IPv4 + {} IPv6 entries ({} added, {} removed); {} active bans cover {} of {} clients seen.",
        int(d.blocklist.ipv4.len() as u64),
        int(d.blocklist.ipv6.len() as u64),
        int(added as u64),
        int(d.changes.removed.len() as u64),
        int(active),
        int(d.kept.len() as u64),
        int(d.clients_seen)
    );
    for t in &d.tripped {
        let _ = writeln!(
            b,
            "\nGUARDRAIL TRIPPED: {}; its {} new ban(s) are held back. Check the rule, or raise ban.guardrail.max_share.",
            t.why(),
            int(t.held_back)
        );
    }
    let mut held: std::collections::BTreeMap<&str, u64> = Default::default();
    for x in &d.dropped {
        *held.entry(x.reason.as_str()).or_default() += 1;
    }
    if !held.is_empty() {
        let list: Vec<String> = held
            .iter()
            .map(|(r, n)| format!("{} {r}", int(*n)))
            .collect();
        let _ = writeln!(b, "\nHeld back: {}.", list.join(", "));
    }
    for f in cx.failures {
        let _ = writeln!(b, "\nFAILED: {f}");
    }
    let ranges: Vec<_> = d.ranges.iter().filter(|r| r.blocked && r.new).collect();
    if !ranges.is_empty() {
        let _ = writeln!(b, "\nNew range bans ({}):", int(ranges.len() as u64));
        for r in ranges.iter().take(LISTED) {
            let _ = writeln!(
                b,
                "  {}  {} offenders of {} clients seen, rule {}, until {}",
                r.cidr,
                int(r.members.len() as u64),
                int(r.clients_seen as u64),
                r.rule,
                format_rfc3339_ms(r.until_ms)
            );
        }
        if ranges.len() > LISTED {
            let _ = writeln!(b, "  … and {} more", int((ranges.len() - LISTED) as u64));
        }
    }
    if !new_bans.is_empty() {
        let _ = writeln!(b, "\nWorst new bans:");
        for ban in new_bans.iter().take(LISTED) {
            let country = state
                .profiles
                .get(&ban.key)
                .and_then(|p| p.country.as_deref())
                .filter(|c| c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()))
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            let _ = writeln!(
                b,
                "  {}  rule {} peak {}/{} ({:.1}x){country}, until {}",
                ban.cidr,
                ban.rule,
                int(ban.peak as u64),
                int(ban.peak_limit as u64),
                ban.severity,
                format_rfc3339_ms(ban.until_ms)
            );
        }
        if new_bans.len() > LISTED {
            let _ = writeln!(b, "  … and {} more", int((new_bans.len() - LISTED) as u64));
        }
    }
    let _ = writeln!(
        b,
        "\nRules: {}.",
        config
            .rules
            .iter()
            .map(|r| format!(
                "{} {}/{}",
                r.name,
                r.limit,
                crate::report::human_duration(r.window_ms)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(at) = cx.reports {
        let _ = writeln!(b, "Reports: {at}report.html (report.json has every ban).");
    }
    Some(Notice {
        subject,
        body: bounded(b),
    })
}

/// Cut a body to [`MAX_BODY`] bytes at a line boundary, saying so.
pub fn bounded(body: String) -> String {
    if body.len() <= MAX_BODY {
        return body;
    }
    let mut out = String::new();
    for line in body.lines() {
        if out.len() + line.len() + 80 > MAX_BODY {
            out.push_str("… (cut; the run's report.json has everything)\n");
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
