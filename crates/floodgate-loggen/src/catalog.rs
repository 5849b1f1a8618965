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

/// Words of the fleet's search queries.
const TERMS: [&str; 16] = [
    "widget",
    "gadget",
    "cable",
    "charger",
    "lamp",
    "chair",
    "desk",
    "bottle",
    "jacket",
    "shoes",
    "headphones",
    "monitor",
    "keyboard",
    "backpack",
    "watch",
    "camera",
];
const FACETS: [&str; 8] = [
    "color=red",
    "color=blue",
    "color=black",
    "size=m",
    "size=xl",
    "brand=acme",
    "brand=globex",
    "in_stock=1",
];
const SORTS: [&str; 4] = ["relevance", "price_asc", "price_desc", "newest"];

/// The query string of an event: [`QUERIES`]`[query]`, or for a non-zero `qseed` a faceted
/// search built from it, different for every `qseed` (it ends in `&p=<qseed>`).
pub fn query_text(query: u16, qseed: u32) -> std::borrow::Cow<'static, str> {
    if qseed == 0 {
        return std::borrow::Cow::Borrowed(QUERIES[query as usize]);
    }
    let h = (qseed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let pick = |shift: u32, n: usize| ((h >> shift) as usize) % n;
    std::borrow::Cow::Owned(format!(
        "q={}+{}&{}&{}&sort={}&p={qseed}",
        TERMS[pick(10, TERMS.len())],
        TERMS[pick(20, TERMS.len())],
        FACETS[pick(30, FACETS.len())],
        FACETS[pick(40, FACETS.len())],
        SORTS[pick(50, SORTS.len())],
    ))
}

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
    // The residential fleet's rotation (15..25): real browsers' agents, older majors among them,
    // then the one honest headless agent (25).
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Mobile Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0", UaKind::Browser),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", UaKind::Browser),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80", UaKind::Browser),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", UaKind::Browser),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36", UaKind::Browser),
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
/// The browser agents the residential fleet rotates through (none is the background's).
pub const FLEET_UAS: std::ops::Range<u16> = 15..25;
/// Headless Chrome saying so: the fleet's honest share.
pub const UA_HEADLESS: u16 = 25;

/// A TLS client fingerprint as WAF logs it (`ja3Fingerprint`, `ja4Fingerprint`).
pub struct Tls {
    /// JA3: an MD5 hex digest.
    pub ja3: &'static str,
    /// JA4: `t13d<ciphers><extensions><alpn>_<hash>_<hash>`.
    pub ja4: &'static str,
}

const fn tls(ja3: &'static str, ja4: &'static str) -> Tls {
    Tls { ja3, ja4 }
}

/// Fingerprints: one per client software, shared by every client of it (a handful of values
/// covers a site's audience, as in real logs), then the residential fleet's own. The values
/// have the shape WAF writes; they stand for the software named, not claimed to be its real
/// fingerprint.
pub static TLS: &[Tls] = &[
    // 0 Chrome and every Chromium browser (Edge, Opera, Android Chrome)
    tls(
        "cd08e31494f9531f560d64c695473da9",
        "t13d1516h2_8daaf6152771_02713d6af862",
    ),
    // 1 Firefox
    tls(
        "579ccef312d18482fc42e2b822ca2430",
        "t13d1715h2_5b57614c22b0_3d5424432f57",
    ),
    // 2 Safari, macOS and iOS
    tls(
        "773906b0efdefa24a7f2b8eb6985bf37",
        "t13d2014h2_a09f3c656075_14788d8d241b",
    ),
    // 3 Googlebot
    tls(
        "1ce6b7f0e2d0a2d45f1a6d3c44e8a6f1",
        "t13d1312h2_f57a46bbacb6_e7c285222651",
    ),
    // 4 bingbot
    tls(
        "4c97aa2b3c9d7c0e1a4b1f6a2e8d5c33",
        "t13d1311h2_e8f1e7e78f70_1f22a2ca17c4",
    ),
    // 5 curl
    tls(
        "456523fc94726331a4d5a2e1d40b2cd7",
        "t13d3112h2_e8f1e7e78f70_375d6d6f8f85",
    ),
    // 6 python-requests
    tls(
        "8d9f7747675e24454cd9b7ed35c58707",
        "t13d1812h1_85036bcba153_b26ce05bbdd6",
    ),
    // 7 Go net/http
    tls(
        "d76d4e6f3ddbb2d6b5a0f8a2c5e1b9f4",
        "t13d1412h1_5b57614c22b0_aab3ac2f0c6e",
    ),
    // 8 zgrab
    tls(
        "b32309a26951912be7dba376398abc3b",
        "t12d2010h1_0a4b2f6c8d1e_8c5f3a9b7e2d",
    ),
    // 9 ELB health checker
    tls(
        "e0b1b7f4c2a9d6e3f8a5c1b4d7e2f9a6",
        "t12d1009h1_c8a3f7e2b5d1_0e9d4c7b2a6f",
    ),
    // 10 okhttp
    tls(
        "f79b6bad2ad0641e1921aef10262856b",
        "t13d1614h2_2b729b4bf6f3_1a3805c3aa63",
    ),
    // 11..14 the residential fleet's headless clients: never sent by anyone else
    tls(
        "6f5e4d3c2b1a09f8e7d6c5b4a3928170",
        "t13d1516h2_8daaf6152771_e5627efa2ab1",
    ),
    tls(
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "t13d1517h2_8daaf6152771_b0da82dd1658",
    ),
    tls(
        "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
        "t13d1715h2_5b57614c22b0_7121afd63204",
    ),
];

/// The fleet's own fingerprints (indices into [`TLS`]).
pub const FLEET_TLS: std::ops::Range<u8> = 11..14;

/// The fingerprint every ordinary client of user agent `ua` sends (index into [`TLS`]).
pub fn tls_of_ua(ua: u16) -> u8 {
    static BY_UA: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BY_UA.get_or_init(|| UAS.iter().map(|(s, _)| tls_for(s)).collect())[ua as usize]
}

fn tls_for(ua: &str) -> u8 {
    let has = |w: &str| ua.contains(w);
    if has("Googlebot") {
        3
    } else if has("bingbot") {
        4
    } else if has("Firefox") {
        1
    } else if has("Chrome") {
        0
    } else if has("Safari") {
        2
    } else if has("curl") {
        5
    } else if has("python") {
        6
    } else if has("Go-http") {
        7
    } else if has("zgrab") {
        8
    } else if has("HealthChecker") {
        9
    } else {
        10
    }
}

/// Residential access networks per country (autonomous system numbers of consumer ISPs), for
/// the `asn` CloudFront standard logging v2 writes; a client keeps one for the whole run.
static ASNS: &[(&str, &[u32])] = &[
    ("US", &[7922, 701, 7018, 20115, 22773]),
    ("DE", &[3320, 3209, 6805, 8881]),
    ("GB", &[2856, 5089, 5607]),
    ("FR", &[3215, 12322, 5410, 15557]),
    ("IN", &[9829, 24560, 55836]),
    ("BR", &[28573, 18881, 7738, 26599]),
    ("JP", &[4713, 2516, 17676]),
    ("CA", &[812, 577, 5769]),
    ("NL", &[1136, 33915]),
    ("AU", &[1221, 4804, 7545]),
    ("ES", &[3352, 12479, 12430]),
    ("IT", &[3269, 30722, 1267]),
    ("SE", &[3301, 2119]),
    ("PL", &[5617, 12741]),
    ("KR", &[4766, 9318, 3786]),
    ("SG", &[9506, 4773]),
    ("CN", &[4134, 4837]),
    ("RU", &[12389, 8359]),
    ("VN", &[7552, 45899]),
    ("TR", &[9121, 47331]),
    ("EG", &[8452, 24863]),
    ("ID", &[7713, 17974]),
    ("MX", &[8151, 28548]),
];

/// The residential ASN of a client in `country`, chosen by `salt` (its address); 0 (unknown)
/// for a country without a list.
pub fn asn_for(country: &str, salt: u64) -> u32 {
    ASNS.iter()
        .find(|(c, _)| *c == country)
        .map_or(0, |(_, list)| list[(salt % list.len() as u64) as usize])
}

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
}

impl Catalog {
    /// Escapes every UA once.
    pub fn new() -> Catalog {
        let mut c = Catalog {
            ua_json: vec![],
            ua_cf: vec![],
            ua_cf_double: vec![],
            ua_alb: vec![],
        };
        for (ua, _) in UAS {
            c.ua_json.push(json_string(ua));
            let enc = cloudfront_encode(ua);
            c.ua_cf_double.push(enc.replace('%', "%25"));
            c.ua_cf.push(enc);
            c.ua_alb.push(ua.replace('"', "\\\""));
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
        assert_eq!(FLEET_UAS.end, UA_HEADLESS);
        assert_eq!(UAS.len(), UA_HEADLESS as usize + 1);
        assert!(UAS[UA_HEADLESS as usize].0.contains("HeadlessChrome"));
    }

    #[test]
    fn fingerprints_are_shared_by_software_and_the_fleets_are_its_own() {
        assert_eq!(FLEET_TLS.end as usize, TLS.len());
        let ordinary: Vec<u8> = (0..UAS.len() as u16).map(tls_of_ua).collect();
        assert!(ordinary.iter().all(|t| !FLEET_TLS.contains(t)));
        // A handful of values for the background's browsers: Chrome, Safari, Firefox.
        let mut browsers: Vec<u8> = ordinary[..BROWSERS as usize].to_vec();
        browsers.sort_unstable();
        browsers.dedup();
        assert_eq!(browsers, [0, 1, 2]);
        let mut all: Vec<&str> = TLS.iter().flat_map(|t| [t.ja3, t.ja4]).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 2 * TLS.len(), "every fingerprint distinct");
        for t in TLS {
            assert_eq!(t.ja3.len(), 32);
            assert!(t.ja3.bytes().all(|b| b.is_ascii_hexdigit()));
            let parts: Vec<&str> = t.ja4.split('_').collect();
            assert_eq!(
                (parts.len(), parts[0].len(), parts[1].len(), parts[2].len()),
                (3, 10, 12, 12),
                "{}",
                t.ja4
            );
        }
        assert_eq!(asn_for("DE", 0), 3320);
        assert_eq!(asn_for("-", 3), 0);
    }
}
