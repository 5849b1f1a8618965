//! Ground truth: floodgate's default rules evaluated exactly on the generated events.
//!
//! The manifest's `expect_ban` is computed here from the events actually written, not from the
//! scenario's intent, so a shortened run or a moved format never produces a wrong label.

use crate::catalog::RES;
use crate::model::{Event, Method};
use crate::Format;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::OnceLock;

/// One of floodgate's default rules.
#[derive(Clone, Copy)]
pub struct Rule {
    pub name: &'static str,
    pub window_s: i64,
    pub limit: u32,
}

/// floodgate's default rules, in the order it reports them, with the `flood` limit given
/// (the default configuration has 600; the botnet scenario is meant for a lower one).
pub fn rules(flood_limit: u32) -> [Rule; 3] {
    let mut r = RULES;
    r[0].limit = flood_limit;
    r
}

/// The default rules, in the order floodgate reports them.
pub const RULES: [Rule; 3] = [
    Rule {
        name: "flood",
        window_s: 300,
        limit: 600,
    },
    Rule {
        name: "errors",
        window_s: 600,
        limit: 100,
    },
    Rule {
        name: "login",
        window_s: 300,
        limit: 20,
    },
];

/// Whether rule `i` counts this event (WAF logs carry no status, so `errors` ignores them).
pub fn rule_matches(i: usize, ev: &Event) -> bool {
    match i {
        0 => true,
        1 => ev.format != Format::Waf && (400..500).contains(&ev.status),
        _ => ev.method == Method::Post && is_login_res(ev.res),
    }
}

/// [`is_login_path`] of a catalog resource, computed once per resource.
fn is_login_res(res: u16) -> bool {
    static LOGIN: OnceLock<Vec<bool>> = OnceLock::new();
    LOGIN.get_or_init(|| RES.iter().map(|r| is_login_path(r.path)).collect())[res as usize]
}

/// Paths of the default `login` rule, matched on the path as the origin routes it
/// ([`normalize_path`]), as floodgate's rule globs are: `/Login`, `//login`, `/login;x`,
/// `/%6Cogin` all count.
pub fn is_login_path(p: &str) -> bool {
    let p = normalize_path(p);
    matches!(
        p.as_str(),
        "/login" | "/wp-login.php" | "/xmlrpc.php" | "/user/login"
    ) || p.starts_with("/api/auth/")
}

/// The path as an origin routes it, the way AWS WAF's `NORMALIZE_PATH` and `LOWERCASE` text
/// transformations see it: percent-decoded once, `;params` of each segment dropped, empty and
/// `.` segments dropped, `..` dropping the segment before it, ASCII lower case. Written here
/// independently of floodgate-core so that the ground truth does not share its bugs.
pub fn normalize_path(p: &str) -> String {
    let b = p.as_bytes();
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                decoded.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                decoded.push(c);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8_lossy(&decoded).to_ascii_lowercase();
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg.split(';').next().unwrap_or("") {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let lead = if decoded.starts_with('/') { "/" } else { "" };
    format!("{lead}{}", segments.join("/"))
}

/// Sliding window over 1-second buckets: the sum of buckets (b − window, b].
#[derive(Default, Clone)]
pub struct Window {
    buckets: VecDeque<(i64, u32)>,
    sum: u32,
    /// Highest window sum seen.
    pub max: u32,
    /// Time of the first event whose window sum exceeded the limit.
    pub first_offence: Option<i64>,
}

impl Window {
    fn prune(&mut self, b: i64, window_s: i64) {
        while let Some(&(fb, n)) = self.buckets.front() {
            if fb <= b - window_s {
                self.sum -= n;
                self.buckets.pop_front();
            } else {
                break;
            }
        }
    }

    /// The window sum if one more event at `t_ms` were added (events must come in time order).
    pub fn count_with(&mut self, t_ms: i64, window_s: i64) -> u32 {
        self.prune(t_ms.div_euclid(1000), window_s);
        self.sum + 1
    }

    /// Adds an event at `t_ms` (events must come in time order).
    pub fn add(&mut self, t_ms: i64, rule: &Rule) {
        let b = t_ms.div_euclid(1000);
        self.prune(b, rule.window_s);
        match self.buckets.back_mut() {
            Some((lb, n)) if *lb == b => *n += 1,
            _ => self.buckets.push_back((b, 1)),
        }
        self.sum += 1;
        self.max = self.max.max(self.sum);
        if self.sum > rule.limit && self.first_offence.is_none() {
            self.first_offence = Some(t_ms);
        }
    }
}

/// Windows of all rules for one ban key.
#[derive(Default, Clone)]
pub struct KeyTruth {
    pub windows: [Window; 3],
}

impl KeyTruth {
    /// Feeds one event through every rule.
    pub fn add(&mut self, ev: &Event, rules: &[Rule; 3]) {
        for (i, rule) in rules.iter().enumerate() {
            if rule_matches(i, ev) {
                self.windows[i].add(ev.t, rule);
            }
        }
    }

    /// Name of the rule that fires first, if any.
    pub fn first_rule(&self) -> Option<&'static str> {
        (0..3)
            .filter_map(|i| self.windows[i].first_offence.map(|t| (t, i)))
            .min()
            .map(|(_, i)| RULES[i].name)
    }
}

/// floodgate's default `[ban.ranges]`: fewest offending keys of a network banned whole.
pub const RANGE_MIN_OFFENDERS: u32 = 16;
/// floodgate's default `[ban.ranges] min_share`, in tenths: offenders / clients seen ≥ 0.9.
pub const RANGE_MIN_SHARE_TENTHS: u32 = 9;
/// floodgate's default `[ban.ranges] ipv6_many_offenders`: an IPv6 network with this many
/// offending keys is banned whole whatever its share.
pub const IPV6_MANY_OFFENDERS: u32 = 256;

/// Whether floodgate's default `[ban.ranges]` bans a network whole that holds `offenders`
/// offending keys and `others` keys under every limit, all seen within the horizon.
pub fn range_ban_expected(ipv6: bool, offenders: u32, others: u32) -> bool {
    (ipv6 && offenders >= IPV6_MANY_OFFENDERS)
        || (offenders >= RANGE_MIN_OFFENDERS
            && u64::from(offenders) * 10
                >= u64::from(offenders + others) * u64::from(RANGE_MIN_SHARE_TENTHS))
}

/// floodgate's default allowlist.
pub fn allowlisted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            let o = v.octets();
            o[0] == 10
                || o[0] == 127
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
        }
        IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// The ban key of an address: IPv4 /32 or IPv6 /64, as CIDR text.
pub fn ban_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => format!("{v}/32"),
        IpAddr::V6(v) => {
            let s = v.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{LOGIN, LOGIN_SPELLINGS, RES};

    #[test]
    fn every_spelling_of_login_is_a_login_path() {
        for i in LOGIN_SPELLINGS.chain([LOGIN]) {
            let p = RES[i as usize].path;
            assert_eq!(normalize_path(p), "/login", "{p}");
            assert!(is_login_path(p), "{p}");
        }
        for (p, n) in [
            ("/", "/"),
            ("/a/../login", "/login"),
            ("/%2561", "/%61"),
            ("/api/AUTH/x;y", "/api/auth/x"),
        ] {
            assert_eq!(normalize_path(p), n);
        }
        // The other resources count as before normalisation (existing corpora keep their truth).
        for (i, r) in RES.iter().enumerate() {
            if !LOGIN_SPELLINGS.contains(&(i as u16)) {
                let exact = ["/login", "/wp-login.php", "/xmlrpc.php", "/user/login"]
                    .contains(&r.path)
                    || r.path.starts_with("/api/auth/");
                assert_eq!(is_login_path(r.path), exact, "{}", r.path);
            }
        }
    }
}
