//! User agent family and major version ("Chrome 131", "Firefox 133", "Safari 17", "curl 8",
//! "python-requests 2", "HeadlessChrome 120"), for telling a fleet's software from a site's
//! usual audience.
//!
//! Why not a UA regex database: the question here is not "which exact device" but "is this
//! share of a surge the same software as usual, and which version": old Chrome majors and
//! headless browsers are what cheap fingerprint blocks hit in the 2026 incidents. A full
//! database is megabytes of regexes and microseconds per string; this is one pass and no
//! allocation, so it can run on every record of a surge.
//!
//! # Semantics
//!
//! The string is cut into tokens at spaces, `(`, `)`, `;` and `,`; a token `name/version` is a
//! product, whose major version is the leading digits of `version` (0 when there are none;
//! saturating at 65535). Tokens without a `/` (platform comments such as `Windows NT 10.0`)
//! are never looked at. Then, first match wins:
//!
//! 1. Empty (or `-`): [`UaFamily::Empty`].
//! 2. A product whose name ends in `bot` or contains `crawler` or `spider` (any case):
//!    [`UaFamily::Bot`] (Googlebot's smartphone agent also claims Chrome; it is still a bot).
//! 3. Browsers, by the most specific product present: `HeadlessChrome`; `Edg`/`EdgA`/`EdgiOS`
//!    (Edge); `OPR` (Opera); `SamsungBrowser`; `YaBrowser` (Yandex); `Chrome`/`CriOS`
//!    (Chrome); `Firefox`/`FxiOS` (Firefox); `Safari` with a `Version` product (Safari, major
//!    of `Version`).
//! 4. Tools, by the first product: `curl`, `Wget`, `python-requests`, `Python-urllib`,
//!    `python-httpx`, `aiohttp` (anywhere), `Go-http-client`, `okhttp`, `Java`,
//!    `Apache-HttpClient`, `axios`, `node-fetch`, `Scrapy`, `PostmanRuntime`, `zgrab`
//!    (anywhere).
//! 5. Anything else, including a bare `Mozilla/5.0 (…)` with no engine product:
//!    [`UaFamily::Other`].
//!
//! Product names compare exactly (case-sensitive, as the software writes them), except the
//! bot test. Percent-encoding is the parser's business: this reads the agent as sent.

use std::fmt;

/// The software a user agent names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UaFamily {
    /// No user agent.
    Empty,
    /// A crawler that says so (Googlebot, bingbot, any `…bot`, `…crawler`, `…spider`).
    Bot,
    /// Headless Chrome (Puppeteer's and Playwright's default agent).
    HeadlessChrome,
    /// Microsoft Edge.
    Edge,
    /// Opera.
    Opera,
    /// Samsung Internet.
    Samsung,
    /// Yandex Browser.
    Yandex,
    /// Google Chrome (and Chromium), desktop, Android and iOS.
    Chrome,
    /// Mozilla Firefox, desktop, Android and iOS.
    Firefox,
    /// Apple Safari, macOS and iOS.
    Safari,
    /// curl.
    Curl,
    /// GNU Wget.
    Wget,
    /// Python requests.
    PythonRequests,
    /// Python's urllib.
    PythonUrllib,
    /// Python httpx.
    PythonHttpx,
    /// Python aiohttp.
    Aiohttp,
    /// Go's net/http.
    GoHttp,
    /// OkHttp (Android apps, Java).
    Okhttp,
    /// Java's built-in client.
    Java,
    /// Apache HttpClient.
    ApacheHttpClient,
    /// axios (Node.js).
    Axios,
    /// node-fetch.
    NodeFetch,
    /// Scrapy.
    Scrapy,
    /// Postman.
    Postman,
    /// The zgrab scanner.
    Zgrab,
    /// Anything else.
    Other,
}

impl UaFamily {
    /// The family's name as shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            UaFamily::Empty => "empty",
            UaFamily::Bot => "bot",
            UaFamily::HeadlessChrome => "HeadlessChrome",
            UaFamily::Edge => "Edge",
            UaFamily::Opera => "Opera",
            UaFamily::Samsung => "Samsung Internet",
            UaFamily::Yandex => "Yandex",
            UaFamily::Chrome => "Chrome",
            UaFamily::Firefox => "Firefox",
            UaFamily::Safari => "Safari",
            UaFamily::Curl => "curl",
            UaFamily::Wget => "Wget",
            UaFamily::PythonRequests => "python-requests",
            UaFamily::PythonUrllib => "python-urllib",
            UaFamily::PythonHttpx => "python-httpx",
            UaFamily::Aiohttp => "aiohttp",
            UaFamily::GoHttp => "Go-http-client",
            UaFamily::Okhttp => "okhttp",
            UaFamily::Java => "Java",
            UaFamily::ApacheHttpClient => "Apache-HttpClient",
            UaFamily::Axios => "axios",
            UaFamily::NodeFetch => "node-fetch",
            UaFamily::Scrapy => "Scrapy",
            UaFamily::Postman => "PostmanRuntime",
            UaFamily::Zgrab => "zgrab",
            UaFamily::Other => "other",
        }
    }

    /// A browser people use (headless Chrome and bots are not).
    pub fn is_browser(self) -> bool {
        matches!(
            self,
            UaFamily::Edge
                | UaFamily::Opera
                | UaFamily::Samsung
                | UaFamily::Yandex
                | UaFamily::Chrome
                | UaFamily::Firefox
                | UaFamily::Safari
        )
    }
}

/// A user agent's family and major version; shown as `Chrome 131` (the family alone when the
/// major is 0 or unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UaClass {
    /// The software.
    pub family: UaFamily,
    /// Its major version; 0 when the agent gives none.
    pub major: u16,
}

impl fmt::Display for UaClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.major {
            0 => f.write_str(self.family.as_str()),
            m => write!(f, "{} {m}", self.family.as_str()),
        }
    }
}

impl serde::Serialize for UaClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Leading digits of `v` as a number, saturating; 0 when there are none.
fn major(v: &[u8]) -> u16 {
    v.iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u32, |n, d| {
            (n * 10 + (d - b'0') as u32).min(u16::MAX as u32)
        }) as u16
}

fn is_bot(name: &[u8]) -> bool {
    let n = name.len();
    let ends_bot = n >= 3 && name[n - 3..].eq_ignore_ascii_case(b"bot");
    ends_bot || contains_ci(name, b"crawler") || contains_ci(name, b"spider")
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Tool families by product name.
fn tool(name: &[u8]) -> Option<UaFamily> {
    Some(match name {
        b"curl" => UaFamily::Curl,
        b"Wget" => UaFamily::Wget,
        b"python-requests" => UaFamily::PythonRequests,
        b"Python-urllib" => UaFamily::PythonUrllib,
        b"python-httpx" => UaFamily::PythonHttpx,
        b"aiohttp" => UaFamily::Aiohttp,
        b"Go-http-client" => UaFamily::GoHttp,
        b"okhttp" => UaFamily::Okhttp,
        b"Java" => UaFamily::Java,
        b"Apache-HttpClient" => UaFamily::ApacheHttpClient,
        b"axios" => UaFamily::Axios,
        b"node-fetch" => UaFamily::NodeFetch,
        b"Scrapy" => UaFamily::Scrapy,
        b"PostmanRuntime" => UaFamily::Postman,
        b"zgrab" => UaFamily::Zgrab,
        _ => return None,
    })
}

/// Browser products, most specific first (rank 0 wins over rank 1 …).
fn browser(name: &[u8]) -> Option<(u8, UaFamily)> {
    Some(match name {
        b"HeadlessChrome" => (0, UaFamily::HeadlessChrome),
        b"Edg" | b"EdgA" | b"EdgiOS" | b"Edge" => (1, UaFamily::Edge),
        b"OPR" | b"OPiOS" => (2, UaFamily::Opera),
        b"SamsungBrowser" => (3, UaFamily::Samsung),
        b"YaBrowser" => (4, UaFamily::Yandex),
        b"Chrome" | b"CriOS" => (5, UaFamily::Chrome),
        b"Firefox" | b"FxiOS" => (6, UaFamily::Firefox),
        _ => return None,
    })
}

/// Classify a user agent; see the module docs for the rules.
pub fn classify(ua: &str) -> UaClass {
    let s = ua.as_bytes();
    if s.is_empty() || s == b"-" {
        return UaClass {
            family: UaFamily::Empty,
            major: 0,
        };
    }
    let mut best: Option<(u8, UaFamily, u16)> = None;
    let mut first_tool: Option<(UaFamily, u16)> = None;
    let mut anywhere_tool: Option<(UaFamily, u16)> = None;
    let (mut safari, mut version): (bool, Option<u16>) = (false, None);
    let mut first = true;
    for token in s
        .split(|b| matches!(b, b' ' | b'(' | b')' | b';' | b','))
        .filter(|t| !t.is_empty())
    {
        let Some(slash) = token.iter().position(|&b| b == b'/') else {
            first = false;
            continue;
        };
        let (name, ver) = (&token[..slash], &token[slash + 1..]);
        let m = major(ver);
        if is_bot(name) {
            return UaClass {
                family: UaFamily::Bot,
                major: m,
            };
        }
        if let Some((rank, fam)) = browser(name) {
            if best.is_none_or(|(r, _, _)| rank < r) {
                best = Some((rank, fam, m));
            }
        } else if name == b"Safari" {
            safari = true;
        } else if name == b"Version" {
            version = Some(m);
        } else if let Some(fam) = tool(name) {
            if first {
                first_tool = Some((fam, m));
            } else if matches!(fam, UaFamily::Aiohttp | UaFamily::Zgrab) {
                anywhere_tool.get_or_insert((fam, m));
            }
        }
        first = false;
    }
    let (family, major) = if let Some((_, fam, m)) = best {
        (fam, m)
    } else if let (true, Some(v)) = (safari, version) {
        (UaFamily::Safari, v)
    } else if let Some(t) = first_tool.or(anywhere_tool) {
        t
    } else {
        (UaFamily::Other, 0)
    };
    UaClass { family, major }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(ua: &str) -> String {
        classify(ua).to_string()
    }

    #[test]
    fn real_agents() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "Safari 17"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari 18"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome 126"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.2849.68", "Edge 130"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 OPR/114.0.0.0", "Opera 114"),
            ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet 26"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36", "HeadlessChrome 120"),
            ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot 2"),
            ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bot 2"),
            ("curl/8.5.0", "curl 8"),
            ("python-requests/2.32.3", "python-requests 2"),
            ("Python/3.11 aiohttp/3.9.1", "aiohttp 3"),
            ("Go-http-client/1.1", "Go-http-client 1"),
            ("okhttp/4.12.0", "okhttp 4"),
            ("Mozilla/5.0 zgrab/0.x", "zgrab"),
            ("Wget/1.21.4", "Wget 1"),
            ("ELB-HealthChecker/2.0", "other"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "other"),
            ("", "empty"),
            ("-", "empty"),
        ];
        for (ua, want) in cases {
            assert_eq!(c(ua), want, "{ua}");
        }
        assert!(
            classify("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                .family
                .is_browser()
        );
        assert!(!classify("curl/8.5.0").family.is_browser());
        assert_eq!(classify("Chrome/99999999").major, u16::MAX);
    }

    fn browser_template() -> impl Strategy<Value = (String, &'static str)> {
        prop_oneof![
            Just(("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36".to_string(), "Chrome")),
            Just(("Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0".to_string(), "Firefox")),
            Just(("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{v}.1 Safari/605.1.15".to_string(), "Safari")),
            Just(("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/{v}.0.0.0 Safari/537.36".to_string(), "HeadlessChrome")),
            Just(("curl/{v}.5.0".to_string(), "curl")),
            Just(("python-requests/{v}.32.3".to_string(), "python-requests")),
        ]
    }

    proptest! {
        /// Any string: no panic, and the same answer twice.
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            prop_assert_eq!(classify(&s), classify(&s));
        }

        /// Family and major come back from a template with any version and any comment.
        #[test]
        fn templates_round_trip((t, family) in browser_template(), v in 1u16..2000, comment in "[a-zA-Z0-9 ._:]{0,30}") {
            let ua = t.replace("{v}", &v.to_string()).replacen("(", &format!("({comment}; "), 1);
            let got = classify(&ua);
            prop_assert_eq!(got.family.as_str(), family, "{}", ua);
            prop_assert_eq!(got.major, v, "{}", ua);
        }
    }
}
