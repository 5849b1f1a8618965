//! Inline SVG charts for `report.html`: requests per minute with ban starts, and the top
//! offenders' peaks against their limits.
//!
//! Plain strings, no dependencies, no scripts: the charts print and work without JavaScript.
//! Colours come from CSS classes (so the page's light/dark/print styles apply). Every label
//! that came from data goes through [`text::html`]; every coordinate is finite.

use super::text;
use crate::report::BanEntry;
use crate::timefmt::format_rfc3339_ms;
use std::fmt::Write;

const W: f64 = 960.0;
const MINUTE: i64 = 60_000;
/// More points than this are reduced to one (the max) per pixel column.
const MAX_POINTS: usize = 1200;
/// Ban-start label rows above the plot.
const LABEL_ROWS: usize = 3;
/// Bans named in one marker's tooltip (a flood starts thousands within a pixel).
const TITLE_BANS: usize = 10;

fn num(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A "nice" step (1, 2 or 5 × 10^k) so that `max / step` is at most `ticks`.
fn nice_step(max: f64, ticks: f64) -> f64 {
    let raw = (max / ticks).max(1.0);
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|s| max / s <= ticks)
        .unwrap_or(pow * 10.0)
}

/// A time step from a fixed ladder so a span has at most ~8 ticks.
fn time_step(span: i64) -> i64 {
    const LADDER: [i64; 15] = [
        1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10_080, 20_160,
    ];
    LADDER
        .iter()
        .map(|m| m * MINUTE)
        .find(|s| span / s <= 8)
        .unwrap_or_else(|| (span / 8 / (1440 * MINUTE) + 1) * 1440 * MINUTE)
}

/// Points to draw: missing minutes drop to zero, long series keep the max per column.
fn series(points: &[(i64, u64)]) -> (Vec<(i64, f64)>, i64) {
    let mut pts: Vec<(i64, u64)> = points.to_vec();
    pts.sort_unstable();
    let mut step = MINUTE;
    if pts.len() > MAX_POINTS {
        let (a, b) = (pts[0].0, pts[pts.len() - 1].0);
        step = ((b.saturating_sub(a)) / MAX_POINTS as i64).max(MINUTE);
        let mut merged: Vec<(i64, u64)> = Vec::new();
        for (t, v) in pts {
            let col = a + (t.saturating_sub(a)) / step * step;
            match merged.last_mut() {
                Some((c, m)) if *c == col => *m = (*m).max(v),
                _ => merged.push((col, v)),
            }
        }
        pts = merged;
    }
    let mut out: Vec<(i64, f64)> = Vec::with_capacity(pts.len() + 8);
    for (i, &(t, v)) in pts.iter().enumerate() {
        if i > 0 {
            let prev = pts[i - 1].0;
            if t.saturating_sub(prev) > step {
                out.push((prev.saturating_add(step), 0.0));
                out.push((t.saturating_sub(step), 0.0));
            }
        }
        out.push((t, v as f64));
    }
    (out, step)
}

/// `HH:MM` of a time, and `YYYY-MM-DD` of its day.
fn clock_and_day(ms: i64) -> (String, String) {
    let s = format_rfc3339_ms(ms);
    (s[11..16].to_string(), s[..10].to_string())
}

/// The requests-per-minute chart with a marker per ban start. `None` when there is no data.
pub fn timeline(
    requests_per_minute: &[(i64, u64)],
    ban_starts: &[(i64, String)],
) -> Option<String> {
    if requests_per_minute.is_empty() {
        return None;
    }
    let (pts, step) = series(requests_per_minute);
    let mut t0 = pts.iter().map(|p| p.0).min().unwrap_or(0);
    let mut t1 = pts
        .iter()
        .map(|p| p.0)
        .max()
        .unwrap_or(0)
        .saturating_add(step);
    if t1 <= t0 {
        (t0, t1) = (t0.saturating_sub(MINUTE), t0.saturating_add(MINUTE));
    }
    let vmax = pts.iter().map(|p| p.1).fold(0.0, f64::max);
    let ystep = nice_step(vmax.max(1.0), 4.0);
    let ytop = ((vmax / ystep).ceil() * ystep).max(ystep);

    // Ban labels: greedy rows so they do not overlap; the rest keep their line and tooltip.
    let visible: Vec<&(i64, String)> = ban_starts
        .iter()
        .filter(|(t, _)| *t >= t0 && *t <= t1)
        .collect();
    let rows_used = if visible.is_empty() { 0 } else { LABEL_ROWS };
    let (left, right, top, bottom) = (58.0, 18.0, 14.0 + 13.0 * rows_used as f64, 44.0);
    let h = top + 200.0 + bottom;
    let (pw, ph) = (W - left - right, 200.0);
    let span = t1.saturating_sub(t0) as f64;
    let x = |t: i64| left + (t.saturating_sub(t0)) as f64 / span * pw;
    let y = |v: f64| top + ph - v / ytop * ph;

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart timeline\" viewBox=\"0 0 {W} {}\" role=\"img\" aria-labelledby=\"tl-title\" preserveAspectRatio=\"xMidYMid meet\">\
         <title id=\"tl-title\">Requests per minute over time (UTC), with ban starts</title>",
        num(h)
    );
    // y grid and labels
    let mut v = 0.0;
    while v <= ytop + ystep / 2.0 {
        let yy = num(y(v));
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\"/><text class=\"tick\" x=\"{}\" y=\"{yy}\" dy=\"4\" text-anchor=\"end\">{}</text>",
            num(left),
            num(W - right),
            num(left - 8.0),
            text::int(v as u64)
        );
        v += ystep;
    }
    // x ticks
    let tstep = time_step(t1.saturating_sub(t0));
    let mut t = t0.div_euclid(tstep).saturating_add(1).saturating_mul(tstep);
    if t0 % tstep == 0 {
        t = t0;
    }
    let mut last_day = String::new();
    while t <= t1 {
        let (clock, day) = clock_and_day(t);
        let xx = num(x(t));
        let _ = write!(
            s,
            "<line class=\"axis\" x1=\"{xx}\" x2=\"{xx}\" y1=\"{}\" y2=\"{}\"/><text class=\"tick\" x=\"{xx}\" y=\"{}\" text-anchor=\"middle\">{clock}",
            num(top + ph),
            num(top + ph + 5.0),
            num(top + ph + 18.0)
        );
        if day != last_day {
            let _ = write!(s, "<tspan x=\"{xx}\" dy=\"13\">{day}</tspan>");
            last_day = day;
        }
        s.push_str("</text>");
        t = match t.checked_add(tstep) {
            Some(n) => n,
            None => break,
        };
    }
    let _ = write!(
        s,
        "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">time (UTC)</text>\
         <text class=\"label\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">requests / min</text>",
        num(W - right),
        num(h - 4.0),
        num(top + ph / 2.0)
    );
    // area and line
    let mut line = String::new();
    for (i, &(t, v)) in pts.iter().enumerate() {
        let _ = write!(
            line,
            "{}{},{}",
            if i == 0 { "M" } else { "L" },
            num(x(t)),
            num(y(v))
        );
    }
    if pts.len() == 1 {
        let _ = write!(line, "L{},{}", num(x(t1)), num(y(pts[0].1)));
    }
    let last_x = if pts.len() == 1 {
        x(t1)
    } else {
        x(pts[pts.len() - 1].0)
    };
    let _ = write!(
        s,
        "<path class=\"area\" d=\"{line}L{},{}L{},{}Z\"/><path class=\"line\" d=\"{line}\"/>",
        num(last_x),
        num(top + ph),
        num(x(pts[0].0)),
        num(top + ph)
    );
    // Ban starts: bans within a few pixels share one marker; labels go in greedy rows so they
    // never overlap (a marker without room keeps its line and tooltip).
    let mut visible = visible;
    visible.sort();
    let mut clusters: Vec<Vec<&(i64, String)>> = Vec::new();
    for b in visible {
        match clusters.last_mut() {
            Some(c) if x(b.0) - x(c[0].0) <= 10.0 => c.push(b),
            _ => clusters.push(vec![b]),
        }
    }
    let mut row_end = [f64::NEG_INFINITY; LABEL_ROWS];
    for c in &clusters {
        let (t, cidr) = c[0];
        let xx = x(*t);
        let (clock, _) = clock_and_day(*t);
        let more = if c.len() > 1 {
            format!(" +{}", c.len() - 1)
        } else {
            String::new()
        };
        let label = format!("{}{more} {clock}", text::short(cidr, 24));
        let width = label.chars().count() as f64 * 6.4 + 10.0;
        let end_anchor = xx + width > W - right;
        let (lo, hi) = if end_anchor {
            (xx - width, xx)
        } else {
            (xx, xx + width)
        };
        let row = row_end.iter().position(|e| *e < lo);
        let ly = row.map_or(top, |r| 12.0 + 13.0 * r as f64);
        s.push_str("<g class=\"ban\"><title>");
        for (i, (t, cidr)) in c.iter().take(TITLE_BANS).enumerate() {
            let sep = if i == 0 { "" } else { "\n" };
            let when = format_rfc3339_ms(*t).replace('T', " ");
            let _ = write!(s, "{sep}ban of {} starts {when} UTC", text::html(cidr));
        }
        if c.len() > TITLE_BANS {
            let _ = write!(
                s,
                "\n… and {} more",
                text::int((c.len() - TITLE_BANS) as u64)
            );
        }
        let _ = write!(
            s,
            "</title><line x1=\"{xv}\" x2=\"{xv}\" y1=\"{}\" y2=\"{}\"/><circle cx=\"{xv}\" cy=\"{}\" r=\"3\"/>",
            num(ly + 3.0),
            num(top + ph),
            num(top + ph),
            xv = num(xx)
        );
        if let Some(r) = row {
            row_end[r] = hi + 4.0;
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>",
                num(if end_anchor { xx - 4.0 } else { xx + 4.0 }),
                num(ly),
                if end_anchor { "end" } else { "start" },
                text::html(&label)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    Some(s)
}

/// Vertical bars of a count per minute (bans started per minute): the shape of an attack's
/// arrival. `None` when there is nothing to draw.
pub fn bars(points: &[(i64, u64)], label: &str) -> Option<String> {
    if points.is_empty() {
        return None;
    }
    let (pts, step) = series(points);
    let t0 = pts.iter().map(|p| p.0).min().unwrap_or(0);
    let t1 = pts
        .iter()
        .map(|p| p.0)
        .max()
        .unwrap_or(0)
        .saturating_add(step)
        .max(t0 + MINUTE);
    let vmax = pts.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let ystep = nice_step(vmax, 3.0);
    let ytop = ((vmax / ystep).ceil() * ystep).max(ystep);
    let (left, right, top, ph) = (58.0, 18.0, 10.0, 110.0);
    let h = top + ph + 30.0;
    let pw = W - left - right;
    let span = (t1 - t0) as f64;
    let x = |t: i64| left + (t - t0) as f64 / span * pw;
    let y = |v: f64| top + ph - v / ytop * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart bars\" viewBox=\"0 0 {W} {}\" role=\"img\" preserveAspectRatio=\"xMidYMid meet\"><title>{} (UTC)</title>",
        num(h),
        text::html(label)
    );
    let mut v = 0.0;
    while v <= ytop + ystep / 2.0 {
        let yy = num(y(v));
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\"/><text class=\"tick\" x=\"{}\" y=\"{yy}\" dy=\"4\" text-anchor=\"end\">{}</text>",
            num(left),
            num(W - right),
            num(left - 8.0),
            text::int(v as u64)
        );
        v += ystep;
    }
    let bw = (step as f64 / span * pw).max(1.0);
    for (t, v) in &pts {
        if *v <= 0.0 {
            continue;
        }
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{} {} at {} UTC</title></rect>",
            num(x(*t)),
            num(y(*v)),
            num((bw - 0.5).max(0.5)),
            num(top + ph - y(*v)),
            text::int(*v as u64),
            text::html(label),
            format_rfc3339_ms(*t).replace('T', " ")
        );
    }
    let (c0, d0) = clock_and_day(t0);
    let (c1, _) = clock_and_day(t1);
    let _ = write!(
        s,
        "<text class=\"tick\" x=\"{}\" y=\"{}\">{d0} {c0}</text><text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{c1}</text></svg>",
        num(left),
        num(top + ph + 18.0),
        num(W - right),
        num(top + ph + 18.0)
    );
    Some(s)
}

/// Horizontal bars of each ban's peak as a multiple of its rule's limit, with the limit as one
/// vertical line (so bans of rules with very different limits compare). Most severe first.
pub fn offenders(bans: &[BanEntry], max_rows: usize) -> Option<String> {
    let mut rows: Vec<(&BanEntry, f64)> = bans
        .iter()
        .map(|b| (b, b.peak as f64 / b.limit.max(1) as f64))
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cidr.cmp(&b.0.cidr)));
    rows.truncate(max_rows);
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max) * 1.08;
    let (x0, x1, row_h, top) = (210.0, 760.0, 34.0, 26.0);
    let h = top + row_h * rows.len() as f64 + 8.0;
    let sx = |r: f64| x0 + (r / max).clamp(0.0, 1.0) * (x1 - x0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart offenders\" viewBox=\"0 0 {W} {}\" role=\"img\" aria-labelledby=\"of-title\">\
         <title id=\"of-title\">Peak window count of each ban against its rule's limit</title>",
        num(h)
    );
    let lx = num(sx(1.0));
    let _ = write!(
        s,
        "<text class=\"label\" x=\"{x0}\" y=\"14\">peak ÷ limit</text><text class=\"limit-label\" x=\"{lx}\" y=\"14\" text-anchor=\"middle\">limit</text>"
    );
    for (i, (b, r)) in rows.iter().enumerate() {
        let y0 = top + row_h * i as f64;
        let class = if b.blocked {
            "blocked"
        } else if b.active {
            "dropped"
        } else {
            "expired"
        };
        let _ = write!(
            s,
            "<g class=\"row {class}\"><title>{} ({}): peak {} in a window, limit {}</title>\
             <text class=\"cidr\" x=\"0\" y=\"{}\">{}</text><text class=\"rule\" x=\"0\" y=\"{}\">{}</text>\
             <rect class=\"track\" x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"3\"/>\
             <rect class=\"bar\" x=\"{x0}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"3\"/>\
             <text class=\"value\" x=\"{}\" y=\"{}\">{} / {} · {}</text></g>",
            text::html(&b.cidr),
            text::html(&b.rule),
            text::int(b.peak.into()),
            text::int(b.limit.into()),
            num(y0 + 13.0),
            text::html(&text::short(&b.cidr, 30)),
            num(y0 + 26.0),
            text::html(&text::short(&b.rule, 30)),
            num(y0 + 6.0),
            num(x1 - x0),
            num(y0 + 6.0),
            num((sx(*r) - x0).max(1.0)),
            num(x1 + 10.0),
            num(y0 + 17.0),
            text::int(b.peak.into()),
            text::int(b.limit.into()),
            text::ratio(*r)
        );
    }
    let _ = write!(
        s,
        "<line class=\"limit\" x1=\"{lx}\" x2=\"{lx}\" y1=\"20\" y2=\"{}\"/></svg>",
        num(h - 4.0)
    );
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_degenerate_series() {
        assert_eq!(nice_step(77.0, 4.0), 20.0);
        assert_eq!(nice_step(1.0, 4.0), 1.0);
        assert_eq!(time_step(120 * MINUTE), 15 * MINUTE);
        assert!(timeline(&[], &[]).is_none());
        let one = timeline(&[(0, 5)], &[(0, "<x>".into())]).unwrap();
        assert!(one.contains("&lt;x&gt;") && !one.contains("NaN"));
        let huge = timeline(&[(i64::MIN, u64::MAX), (i64::MAX - MINUTE, 0)], &[]).unwrap();
        assert!(!huge.contains("NaN") && !huge.contains("inf"));
        let gap = series(&[(0, 1), (10 * MINUTE, 1)]).0;
        assert_eq!(gap.len(), 4);
        let long: Vec<(i64, u64)> = (0..100_000).map(|m| (m * MINUTE, m as u64)).collect();
        assert!(series(&long).0.len() <= MAX_POINTS + 1);
    }
}
