//! Escaping and formatting shared by the Markdown and HTML renderers.
//!
//! Every string in a [`Report`](super::Report) that came from a log or a config (paths, user
//! agents, excerpts, file names, rule names, even CIDRs in a hand-edited report) is
//! attacker-controlled. The renderers only ever put such strings into a page through
//! [`html`] or [`md_cell`]; numbers go through [`int`] and friends.

/// Characters that render invisibly or reorder text (bidi overrides): shown as U+FFFD so a
/// user agent cannot make one CIDR look like another.
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Escape for HTML text and quoted attribute values: `& < > " '`, control characters and bidi
/// overrides replaced by U+FFFD (tab and newline kept).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() || is_deceptive(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Escape for one Markdown table cell (CommonMark/GFM): backslash-escapes `\ ` * [ ] < > | ~`,
/// `&` before something entity-like and `_` at word edges; newlines and other control
/// characters become spaces, so a row always stays on one line.
pub fn md_cell(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '&' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '#') =>
            {
                out.push_str("\\&")
            }
            '_' if !(word(i.checked_sub(1)) && word(Some(i + 1))) => out.push_str("\\_"),
            c if c.is_control() || is_deceptive(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A value from a log as a Markdown code span, safe in a GFM table cell: nothing inside a code
/// span autolinks, @mentions, or renders as markup. The fence is one backtick longer than the
/// longest run inside; pipes are escaped (GFM splits cells before code spans); newlines and
/// other control or deceptive characters become spaces.
pub fn md_code(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_control() || is_deceptive(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let (mut run, mut longest) = (0, 0);
    for c in clean.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let body = clean.replace('|', "\\|");
    if body.is_empty() {
        return "` `".into();
    }
    let pad = if body.starts_with('`') || body.ends_with('`') || body.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// At most `max` characters, with `…` at the end when cut.
pub fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most `max` characters, cut in the middle (keeps a path's file name readable).
pub fn short_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let tail = max * 2 / 3;
    let head = max.saturating_sub(tail + 1);
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

/// `77552` → `77,552`.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `4156717` → `4.2 MB` (decimal units, like the AWS console).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A ratio like a severity: `3.04×`; non-finite values show as `–`.
pub fn ratio(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x >= 100.0 {
        format!("{x:.0}×")
    } else {
        format!("{x:.2}×")
    }
}

/// `2026-11-02T08:41:01.250Z` → `2026-11-02 08:41:01` (milliseconds are noise to a reader;
/// `report.json` keeps them). Any other text is returned unchanged (the caller still escapes it).
pub fn time(s: &str) -> String {
    let b = s.as_bytes();
    if s.is_ascii() && b.len() == 24 && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z' {
        format!("{} {}", &s[..10], &s[11..19])
    } else {
        s.to_string()
    }
}

/// The span between two report times, e.g. `1h59m59s836ms` → `2h` rounded to seconds;
/// `None` when either does not parse.
pub fn span(first: &str, last: &str) -> Option<String> {
    let a = crate::timefmt::parse_iso_utc(first)?;
    let b = crate::timefmt::parse_iso_utc(last)?;
    let secs = (b.saturating_sub(a).max(0) + 500) / 1000;
    Some(crate::report::human_duration(secs.saturating_mul(1000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            html("<a href=\"x\">'&'</a>\u{0}\u{202e}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{fffd}\u{fffd}"
        );
        assert_eq!(md_cell("a|b\nc`d<e"), "a\\|b c\\`d\\<e");
        assert_eq!(
            md_cell("x_waflogs_y _z_ a&b &lt;"),
            "x_waflogs_y \\_z\\_ a\\&b \\&lt;"
        );
        assert_eq!(md_code("/admin"), "`/admin`");
        assert_eq!(md_code("a`b``c|d\n@all"), "```a`b``c\\|d @all```");
        assert_eq!(md_code("`x"), "`` `x ``");
        assert_eq!(md_code(""), "` `");
    }

    #[test]
    fn formats() {
        assert_eq!(int(0), "0");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(int(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(4_156_717), "4.2 MB");
        assert_eq!(bytes(u64::MAX), "18446.7 PB");
        assert_eq!(short("abcdef", 4), "abc…");
        assert_eq!(short_middle("abcdefghij", 7), "ab…ghij");
        assert_eq!(time("2026-11-02T08:41:01.000Z"), "2026-11-02 08:41:01");
        assert_eq!(time("2026-11-02T08:41:01.250Z"), "2026-11-02 08:41:01");
        assert_eq!(time("é"), "é");
        assert_eq!(
            span("2026-11-02T08:00:00.000Z", "2026-11-02T09:59:59.836Z").as_deref(),
            Some("2h")
        );
        assert_eq!(ratio(f64::NAN), "–");
    }
}
