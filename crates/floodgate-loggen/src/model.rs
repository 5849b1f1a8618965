//! The in-memory shape of generated traffic: clients and the compact events they emit.

use crate::Format;
use std::net::IpAddr;

/// HTTP method of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Head,
}

impl Method {
    /// Upper-case name as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Head => "HEAD",
        }
    }
}

/// The actor (scenario) a client belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Actor {
    Background,
    Flood,
    Scanner,
    Bruteforce,
    Ipv6Rotation,
    NatOffice,
    Healthcheck,
    Crowd,
    CarrierNat,
    Botnet,
    Stuffer,
    Decoy,
    DecoyQuiet,
    DecoyAged,
    Fleet,
}

impl Actor {
    /// Scenario name in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Actor::Background => "background",
            Actor::Flood => "flood",
            Actor::Scanner => "scanner",
            Actor::Bruteforce => "bruteforce",
            Actor::Ipv6Rotation => "ipv6-rotation",
            Actor::NatOffice => "nat-office",
            Actor::Healthcheck => "healthcheck",
            Actor::Crowd => "crowd",
            Actor::CarrierNat => "carrier-nat",
            Actor::Botnet => "botnet",
            Actor::Stuffer => "credential-stuffer",
            Actor::Decoy => "decoy",
            Actor::DecoyQuiet => "decoy-quiet",
            Actor::DecoyAged => "decoy-aged",
            Actor::Fleet => "residential-fleet",
        }
    }

    /// Human description for the manifest.
    pub fn description(self) -> &'static str {
        match self {
            Actor::Background => "Human-like sessions (pages, assets, think times, occasional 404s) from many users, each far below every default limit.",
            Actor::Flood => "3 IPs in 203.0.113.0/24 sending ~10 req/s each for ~3 minutes: exceed rule `flood` (600/5m).",
            Actor::Scanner => "198.51.100.7 probing /.env, /.git/config, /wp-admin/ … every ~4 s for ~45 minutes, all 4xx: exceeds `errors` (100 4xx/10m) but not `flood`.",
            Actor::Bruteforce => "192.0.2.50 sending POST /login every ~3 s for ~20 minutes, answered 401: exceeds `login` (20/5m).",
            Actor::Ipv6Rotation => "Random addresses inside 2001:db8:bad:1::/64 at ~5 req/s for ~4 minutes: each address is below the limits, the /64 exceeds `flood`.",
            Actor::NatOffice => "One public IP with many office users behind it, ~1 req/s on average, capped so every window stays at or below 70% of each limit: must NOT be banned.",
            Actor::Healthcheck => "10.0.1.10 calling GET /health at 5 req/s for the whole run: exceeds `flood` but is allowlisted (10.0.0.0/8).",
            Actor::Crowd => "Ordinary clients with 1-6 requests each over the whole run, outside every attacker /24: must NOT be banned.",
            Actor::CarrierNat => "Ordinary clients in carrier-NAT /24s that also hold a few attackers: must NOT be banned, their /24s never banned whole.",
            Actor::Botnet => "A distributed flood: each address sends a burst a few times over the flood limit; half packed into rented /24s (and /48s), half scattered one per network, some inside carrier NATs.",
            Actor::Stuffer => "Credential stuffers, one address per /24, each sending ~25 POST /login within 4 minutes (some spelled /Login, //login, /login;x, /%6Cogin, /login/, /./login): exceed `login` (20/5m); each must be banned.",
            Actor::Decoy => "Decoy IPv6 /64s of one /48, each sending 21 POST /login (just over `login`) to make the attack look like a broken rule: banned, and their /48 banned whole (ipv6_many_offenders).",
            Actor::DecoyQuiet => "Quiet /64s of the decoys' /48 with one GET each, keeping its share of offenders under ranges.min_share: not over any limit, covered by the /48's range ban.",
            Actor::DecoyAged => "Decoy IPv6 /64s of a second /48, aged in advance (one GET well before the attack) to pass as the site's audience, then 21 POST /login each: banned, their /48 banned whole.",
            Actor::Fleet => "A headless fleet on residential proxies: thousands of addresses with one or two GET /search each, every query string distinct, rotating real browsers' user agents; most with TLS fingerprints only the fleet has, the rest indistinguishable from ordinary browsers (manifest `fleet`). No address is over any limit: must NOT be banned.",
        }
    }

    /// The format this actor's traffic naturally appears in.
    pub fn natural_format(self) -> Format {
        match self {
            Actor::Background | Actor::Crowd | Actor::CarrierNat | Actor::Botnet => Format::Waf,
            Actor::Flood => Format::Waf,
            Actor::Scanner | Actor::Ipv6Rotation | Actor::NatOffice => Format::Cloudfront,
            Actor::Bruteforce | Actor::Healthcheck => Format::Alb,
            Actor::Decoy | Actor::DecoyQuiet | Actor::Fleet => Format::Waf,
            Actor::Stuffer | Actor::DecoyAged => Format::Alb,
        }
    }
}

/// One client IP and what stays constant about it.
pub struct Client {
    pub ip: IpAddr,
    pub ip_str: String,
    pub format: Format,
    pub actor: Actor,
    /// Default user agent (index into `catalog::UAS`).
    pub ua: u16,
    pub country: &'static str,
    /// CloudFront edge location serving this client.
    pub edge: &'static str,
    /// Its network's autonomous system number (a residential ISP of its country; 0 unknown).
    pub asn: u32,
    /// Original client behind a proxy, logged as X-Forwarded-For.
    pub xff: Option<String>,
    /// Valid records written for this client.
    pub requests: u64,
    /// The current keep-alive connection: client port, connection id, requests left on it.
    pub conn: (u16, u128, u16),
}

impl Client {
    /// A client with no request written yet, not behind a proxy.
    pub fn new(
        ip: IpAddr,
        format: Format,
        actor: Actor,
        ua: u16,
        country: &'static str,
        edge: &'static str,
    ) -> Client {
        Client {
            ip,
            ip_str: ip.to_string(),
            format,
            actor,
            ua,
            country,
            edge,
            asn: crate::catalog::asn_for(country, ip_salt(ip)),
            xff: None,
            requests: 0,
            conn: (0, 0, 0),
        }
    }
}

/// A number from an address, to pick among equals (its ISP) without an RNG draw.
fn ip_salt(ip: IpAddr) -> u64 {
    let bits = match ip {
        IpAddr::V4(a) => u32::from(a) as u128 >> 8,
        IpAddr::V6(a) => u128::from(a) >> 80,
    };
    (bits as u64 ^ (bits >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40
}

/// Event flag: the request was blocked by AWS WAF (403 at the ALB, BLOCK in WAF logs).
pub const FLAG_BLOCKED: u8 = 1;

/// One request, small and `Copy`; strings live in the catalog and client table.
#[derive(Clone, Copy, Debug)]
pub struct Event {
    /// Event time, ms since the epoch (the time written to the log).
    pub t: i64,
    /// Output order key (event time plus jitter), so files are slightly out of order.
    pub order: i64,
    /// Index into the client table.
    pub client: u32,
    /// Index into `catalog::RES`.
    pub res: u16,
    /// Index into `catalog::QUERIES`.
    pub query: u16,
    /// Referring resource + 1, or 0 for none.
    pub referer: u16,
    /// HTTP status (0 is logged as CloudFront's `000`).
    pub status: u16,
    /// User agent index.
    pub ua: u16,
    /// TLS fingerprint (index into `catalog::TLS`): the user agent's own unless a scenario
    /// says otherwise.
    pub tls: u8,
    /// Non-zero: the query string is generated from this number (`catalog::query_text`),
    /// distinct per number, instead of `query`.
    pub qseed: u32,
    pub method: Method,
    pub format: Format,
    pub flags: u8,
}
