//! Which address is "the client": the connection's source, or an entry of X-Forwarded-For.
//!
//! Behind a proxy or CDN the log's source address (the *peer*: WAF `clientIp`, CloudFront
//! `c-ip`) is the proxy. But X-Forwarded-For is a header, and whoever connects writes it: a
//! client that reaches the load balancer directly, or a viewer of CloudFront, can put any
//! address there and have floodgate count (and ban) that address instead of its own. So the
//! header is believed only from the site's own proxies ([`client_from`]):
//!
//! * `proxies` set (`[source] proxies`, CIDRs; `"cloudfront"` is CloudFront's origin-facing
//!   ranges): a request whose peer is not one of them is keyed on the peer. From a proxy, the
//!   header (every X-Forwarded-For header of the request, in order, as one comma-separated
//!   list, as RFC 7230 combines repeated fields) is walked from the right past the entries that
//!   are proxies too; the first other address is the client. An entry that is not an address,
//!   or a list of nothing but proxies, is `no_forwarded_ip`: never guessed, never the proxy.
//! * `proxies` empty: `trusted_proxies = N` takes the entry N hops from the right (N = 0: the
//!   rightmost entry, appended by the proxy closest to AWS), whatever the peer. Only right for
//!   logs every request of which came through N proxies of the site's (and never directly).
//!
//! A request whose header is missing or too short is rejected as `no_forwarded_ip`, never
//! guessed.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where the client address comes from. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClientIpSource {
    /// The log's own client address (WAF `clientIp`, CloudFront `c-ip`, ALB `client:port`).
    #[default]
    Source,
    /// An entry of X-Forwarded-For, believed only from `proxies` (see the module docs).
    ForwardedFor {
        /// With no `proxies`: the number of proxies you run in front of AWS that append to the
        /// header.
        trusted_proxies: u32,
        /// The site's own proxies: the only peers whose X-Forwarded-For is believed.
        proxies: Proxies,
    },
}

/// The site's own proxies (sorted, shared cheaply between parsers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxies(Arc<Vec<IpNet>>);

impl Proxies {
    /// The proxies among `nets` (any order; duplicates and nested ranges are merged).
    pub fn new(nets: Vec<IpNet>) -> Proxies {
        Proxies(Arc::new(IpNet::aggregate(&nets)))
    }

    /// No proxies listed: `trusted_proxies` applies.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many ranges (after merging).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        // Aggregated ranges are disjoint and sorted: the one that could hold `ip` is the last
        // whose network address is not above it.
        let i = self.0.partition_point(|n| n.network() <= ip);
        i > 0 && self.0[i - 1].contains(&ip)
    }
}

/// Why no client could be picked from X-Forwarded-For.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpicked {
    /// `proxies` are set but the record has no peer address to check against them.
    NoPeer,
    /// The header has no usable entry (missing, too short, not an address, only proxies).
    NoForwarded,
}

/// The client of a request whose peer is `peer` and whose X-Forwarded-For headers, joined in
/// order, are `xff` (see the module docs).
pub fn client_from(
    peer: Option<IpAddr>,
    xff: &str,
    trusted_proxies: u32,
    proxies: &Proxies,
) -> Result<IpAddr, Unpicked> {
    if proxies.is_empty() {
        return from_forwarded_for(xff, trusted_proxies).ok_or(Unpicked::NoForwarded);
    }
    let peer = peer.ok_or(Unpicked::NoPeer)?;
    if !proxies.contains(peer) {
        return Ok(peer);
    }
    for entry in xff.rsplit(',') {
        let ip = parse_ip(entry).ok_or(Unpicked::NoForwarded)?;
        if !proxies.contains(ip) {
            return Ok(ip);
        }
    }
    Err(Unpicked::NoForwarded)
}

/// Parse one address as logs write it, normalising IPv4-mapped IPv6 (`::ffff:1.2.3.4`) to IPv4.
/// Accepts `1.2.3.4:port`, `[v6]:port` and bare addresses; rejects zone ids and short forms.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let ip = if let Some(rest) = s.strip_prefix('[') {
        rest.split_once(']')?.0.parse::<IpAddr>().ok()?
    } else if let Ok(ip) = s.parse::<IpAddr>() {
        ip
    } else {
        s.parse::<SocketAddr>().ok()?.ip()
    };
    Some(ip.to_canonical())
}

/// Split ALB's `client:port` on the LAST colon (IPv6 is written without brackets).
pub fn parse_ip_port(s: &str) -> Option<IpAddr> {
    let (ip, port) = s.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let ip = ip
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(ip);
    Some(ip.parse::<IpAddr>().ok()?.to_canonical())
}

/// Pick the client from an X-Forwarded-For value. `None` when the header has fewer than
/// `trusted_proxies + 1` entries or the chosen entry is not an address.
pub fn from_forwarded_for(header: &str, trusted_proxies: u32) -> Option<IpAddr> {
    let entry = header.rsplit(',').nth(trusted_proxies as usize)?;
    parse_ip(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_logs_use() {
        assert_eq!(parse_ip("1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_ip(" 1.2.3.4:8080 "), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(
            parse_ip("[2001:db8::1]:443"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip("::ffff:1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        for bad in ["1.2.3", "fe80::1%eth0", "", "999.1.1.1", "[::1", "unknown"] {
            assert_eq!(parse_ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn alb_client_port_splits_on_the_last_colon() {
        assert_eq!(
            parse_ip_port("2001:db8::1:54321"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_ip_port("192.168.131.39:2817"),
            Some("192.168.131.39".parse().unwrap())
        );
        assert_eq!(
            parse_ip_port("::ffff:10.0.0.1:80"),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(parse_ip_port("192.168.131.39"), None);
        assert_eq!(parse_ip_port("1.2.3.4:"), None);
        assert_eq!(parse_ip_port("-"), None);
    }

    #[test]
    fn forwarded_for_skips_trusted_hops_from_the_right() {
        let h = "6.6.6.6, 1.1.1.1, 2.2.2.2";
        assert_eq!(from_forwarded_for(h, 0), Some("2.2.2.2".parse().unwrap()));
        assert_eq!(from_forwarded_for(h, 1), Some("1.1.1.1".parse().unwrap()));
        assert_eq!(from_forwarded_for(h, 2), Some("6.6.6.6".parse().unwrap()));
        assert_eq!(from_forwarded_for(h, 3), None);
        assert_eq!(from_forwarded_for("garbage", 0), None);
    }

    fn proxies(list: &[&str]) -> Proxies {
        Proxies::new(list.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_proxy() {
        let p = proxies(&["130.176.0.0/18", "2600:9000:2000::/36", "10.0.0.0/8"]);
        let via = ip("130.176.1.2");
        // a request straight from the client: its own address, whatever it wrote
        assert_eq!(
            client_from(ip("6.6.6.6"), "192.0.2.1", 0, &p),
            Ok("6.6.6.6".parse().unwrap())
        );
        // through CloudFront: the address CloudFront appended
        assert_eq!(
            client_from(via, "192.0.2.1, 6.6.6.6", 0, &p),
            Ok("6.6.6.6".parse().unwrap())
        );
        // through CloudFront and an internal proxy of the site, both skipped
        assert_eq!(
            client_from(ip("10.1.1.1"), "192.0.2.1, 6.6.6.6, 130.176.9.9", 0, &p),
            Ok("6.6.6.6".parse().unwrap())
        );
        // garbage or nothing but proxies: not guessed, never the proxy itself
        assert_eq!(client_from(via, "", 0, &p), Err(Unpicked::NoForwarded));
        assert_eq!(
            client_from(via, "x, 130.176.0.1", 0, &p),
            Err(Unpicked::NoForwarded)
        );
        assert_eq!(
            client_from(via, "130.176.0.1", 0, &p),
            Err(Unpicked::NoForwarded)
        );
        assert_eq!(client_from(None, "6.6.6.6", 0, &p), Err(Unpicked::NoPeer));
        // IPv6 proxies
        assert_eq!(
            client_from(ip("2600:9000:2001::1"), "2001:db8::7", 0, &p),
            Ok("2001:db8::7".parse().unwrap())
        );
        // no proxies listed: trusted_proxies as before, whatever the peer
        let none = Proxies::default();
        assert_eq!(
            client_from(ip("6.6.6.6"), "1.1.1.1, 2.2.2.2", 1, &none),
            Ok("1.1.1.1".parse().unwrap())
        );
        assert!(p.contains("10.255.255.255".parse().unwrap()));
        assert!(!p.contains("11.0.0.0".parse().unwrap()));
        assert!(!p.contains("130.175.255.255".parse().unwrap()));
    }
}
