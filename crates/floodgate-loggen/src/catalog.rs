//! Static vocabulary of the generated site: paths, queries, user agents, countries, edges.
//!
//! Records refer to these tables by index so that an event stays a small `Copy` value and the
//! writers never allocate; strings that need escaping are escaped once, when the catalog is built.

use crate::text::{cloudfront_encode, json_string};

/// One resource of the demo site.
pub struct Res {
    pub path: &'static str,
    pub ctype: &'static str,
    /// Typical response size in bytes.
    pub size: u32,
}

const fn r(path: &'static str, ctype: &'static str, size: u32) -> Res {
    Res { path, ctype, size }
}

/// All resources; the category ranges below index into it.
pub static RES: &[Res] = &[
    // pages 0..14
    r("/", "text/html", 18_400),
    r("/pricing", "text/html", 12_100),
    r("/about", "text/html", 9_800),
    r("/blog", "text/html", 15_300),
    r("/blog/reading-waf-logs", "text/html", 22_700),
    r("/blog/rate-limits-that-work", "text/html", 21_900),
    r("/docs/getting-started", "text/html", 25_200),
    r("/docs/configuration", "text/html", 31_000),
    r("/products/widget-a", "text/html", 14_800),
    r("/products/widget-b", "text/html", 14_200),
    r("/products", "text/html", 16_600),
    r("/search", "text/html", 11_300),
    r("/cart", "text/html", 8_900),
    r("/contact", "text/html", 7_400),
    // assets 14..24
    r("/static/app.3f9c2a71.js", "application/javascript", 182_000),
    r(
        "/static/vendor.8d1e44b0.js",
        "application/javascript",
        341_000,
    ),
    r("/static/main.51ac09e2.css", "text/css", 48_200),
    r("/static/logo.svg", "image/svg+xml", 3_100),
    r("/images/hero.jpg", "image/jpeg", 215_000),
    r("/images/widget-a.webp", "image/webp", 64_000),
    r("/images/widget-b.webp", "image/webp", 61_500),
    r("/fonts/inter-var.woff2", "font/woff2", 98_000),
    r("/favicon.ico", "image/x-icon", 15_086),
    r("/static/analytics.js", "application/javascript", 12_400),
    // api 24..30
    r("/api/v1/items", "application/json", 4_200),
    r("/api/v1/cart", "application/json", 900),
    r("/api/v1/recommendations", "application/json", 2_600),
    r("/api/v1/session", "application/json", 310),
    r("/api/v1/search", "application/json", 5_800),
    r("/api/v1/events", "application/json", 120),
    // login 30, health 31
    r("/login", "text/html", 6_100),
    r("/health", "text/plain", 2),
    // scanner probes 32..52
    r("/.env", "text/html", 548),
    r("/.git/config", "text/html", 548),
    r("/wp-admin/", "text/html", 548),
    r("/wp-login.php", "text/html", 548),
    r("/xmlrpc.php", "text/html", 548),
    r("/phpmyadmin/index.php", "text/html", 548),
    r("/.aws/credentials", "text/html", 548),
    r("/config.json", "text/html", 548),
    r("/backup.sql", "text/html", 548),
    r("/admin/config.php", "text/html", 548),
    r("/.DS_Store", "text/html", 548),
    r("/server-status", "text/html", 548),
    r(
        "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        "text/html",
        548,
    ),
    r("/actuator/env", "text/html", 548),
    r("/.svn/entries", "text/html", 548),
    r("/wp-config.php.bak", "text/html", 548),
    r("/cgi-bin/luci", "text/html", 548),
    r("/owa/auth/logon.aspx", "text/html", 548),
    r("/debug/default/view", "text/html", 548),
    r("/.env.production", "text/html", 548),
    // other spellings of /login 52..58, routed to it by the origin (see `truth::normalize_path`)
    r("/Login", "text/html", 6_100),
    r("//login", "text/html", 6_100),
    r("/login;x", "text/html", 6_100),
    r("/%6Cogin", "text/html", 6_100),
    r("/login/", "text/html", 6_100),
    r("/./login", "text/html", 6_100),
];

/// Indices of HTML pages.
pub const PAGES: std::ops::Range<u16> = 0..14;
/// Indices of static assets.
pub const ASSETS: std::ops::Range<u16> = 14..24;
/// Indices of JSON API endpoints.
pub const API: std::ops::Range<u16> = 24..30;
/// `/login`.
pub const LOGIN: u16 = 30;
/// `/health`.
pub const HEALTH: u16 = 31;
/// Vulnerability-scanner probes.
pub const SCAN: std::ops::Range<u16> = 32..52;
/// `/login` spelled otherwise (case, `//`, `;params`, percent-encoding, trailing `/`, `/./`):
/// an attacker who has read a rule's `paths = ["/login"]` sends these to dodge it.
pub const LOGIN_SPELLINGS: std::ops::Range<u16> = 52..58;

/// Query strings; index 0 means "no query".
pub static QUERIES: &[&str] = &[
    "",
    "q=rate+limit",
    "q=waf+logs",
    "page=2",
    "page=3",
    "utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "ref=producthunt",
    "id=1042",
    "id=77&variant=blue",
    "sort=price&order=asc",
    "v=3",
    "lang=de",
];

/// Which kind of software a user agent belongs to (drives WAF bot labels).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UaKind {
    Browser,
    SearchBot,
    Tool,
}

/// User agents; the first `BROWSERS` are browsers used by humans.
pub static UAS: &[(&str, UaKind)] = &[
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", UaKind::Browser),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", UaKind::Browser),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.68", UaKind::Browser),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", UaKind::SearchBot),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", UaKind::SearchBot),
    ("curl/8.5.0", UaKind::Tool),
    ("python-requests/2.32.3", UaKind::Tool),
    ("Go-http-client/1.1", UaKind::Tool),
    ("Mozilla/5.0 zgrab/0.x", UaKind::Tool),
    ("ELB-HealthChecker/2.0", UaKind::Tool),
    ("okhttp/4.12.0", UaKind::Tool),
];

/// Number of browser user agents at the start of [`UAS`].
pub const BROWSERS: u16 = 7;
/// Index of the zgrab scanner UA.
pub const UA_ZGRAB: u16 = 12;
/// Index of the health-checker UA.
pub const UA_HEALTH: u16 = 13;
/// Index of python-requests.
pub const UA_PYTHON: u16 = 10;
/// Index of Go-http-client.
pub const UA_GO: u16 = 11;
/// Index of okhttp.
pub const UA_OKHTTP: u16 = 14;

/// Countries with weights for background users, and the CloudFront edge that serves them.
pub static COUNTRIES: &[(&str, u32, &str)] = &[
    ("US", 30, "IAD89-C1"),
    ("DE", 10, "FRA56-P1"),
    ("GB", 8, "LHR61-P2"),
    ("FR", 6, "CDG52-P3"),
    ("IN", 7, "BOM78-P4"),
    ("BR", 5, "GRU3-C1"),
    ("JP", 5, "NRT57-C2"),
    ("CA", 4, "YUL62-C1"),
    ("NL", 4, "AMS58-P2"),
    ("AU", 3, "SYD1-C1"),
    ("ES", 3, "MAD53-P1"),
    ("IT", 3, "MXP63-P1"),
    ("SE", 2, "ARN56-P1"),
    ("PL", 2, "WAW51-P3"),
    ("KR", 3, "ICN57-P1"),
    ("SG", 3, "SIN2-P4"),
];

/// User-agent strings pre-escaped for every output format.
pub struct Catalog {
    /// JSON string literal (with quotes) per UA.
    pub ua_json: Vec<String>,
    /// CloudFront percent-encoded UA.
    pub ua_cf: Vec<String>,
    /// Doubly encoded UA (`%2520`), as CloudFront logs show for some clients.
    pub ua_cf_double: Vec<String>,
    /// ALB quotes the UA; embedded quotes are escaped.
    pub ua_alb: Vec<String>,
    /// A stable JA3 fingerprint per UA.
    pub ja3: Vec<String>,
}

impl Catalog {
    /// Escapes every UA once.
    pub fn new() -> Catalog {
        let mut c = Catalog {
            ua_json: vec![],
            ua_cf: vec![],
            ua_cf_double: vec![],
            ua_alb: vec![],
            ja3: vec![],
        };
        for (i, (ua, _)) in UAS.iter().enumerate() {
            c.ua_json.push(json_string(ua));
            let enc = cloudfront_encode(ua);
            c.ua_cf_double.push(enc.replace('%', "%25"));
            c.ua_cf.push(enc);
            c.ua_alb.push(ua.replace('"', "\\\""));
            // Two rounds of a 64-bit mix give a fixed, plausible-looking MD5-sized hex digest.
            let mut h = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let mut s = String::with_capacity(32);
            for _ in 0..2 {
                h ^= h >> 31;
                h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
                h ^= h >> 29;
                s.push_str(&format!("{h:016x}"));
            }
            c.ja3.push(s);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_table() {
        assert_eq!(SCAN.end, LOGIN_SPELLINGS.start);
        assert_eq!(RES.len(), LOGIN_SPELLINGS.end as usize);
        assert_eq!(RES[LOGIN as usize].path, "/login");
        assert_eq!(RES[HEALTH as usize].path, "/health");
        assert!(RES[PAGES.end as usize - 1].ctype == "text/html");
        assert!(RES[ASSETS.start as usize].path.starts_with("/static"));
        assert!(RES[API.start as usize].path.starts_with("/api"));
        assert_eq!(UAS[UA_HEALTH as usize].0, "ELB-HealthChecker/2.0");
        assert_eq!(UAS[UA_ZGRAB as usize].0, "Mozilla/5.0 zgrab/0.x");
        assert!(UAS[..BROWSERS as usize]
            .iter()
            .all(|u| u.1 == UaKind::Browser));
    }
}
