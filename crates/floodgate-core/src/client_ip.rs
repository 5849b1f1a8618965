//! Which address is "the client": the connection's source, or an entry of X-Forwarded-For.
//!
//! Behind a proxy or CDN the log's source address is the proxy. `x-forwarded-for` with
//! `trusted_proxies = N` takes the entry N hops from the right of the header (N = 0: the
//! rightmost entry, appended by the proxy closest to AWS). Entries left of the trusted hops are
//! chosen by the client and could be forged, so floodgate never looks further left. A request
//! whose header is missing or too short is rejected as `no_forwarded_ip`, never guessed.

use std::net::{IpAddr, SocketAddr};

/// Where the client address comes from. See the module docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientIpSource {
    /// The log's own client address (WAF `clientIp`, CloudFront `c-ip`, ALB `client:port`).
    #[default]
    Source,
    /// An entry of X-Forwarded-For, skipping `trusted_proxies` entries from the right.
    ForwardedFor {
        /// Number of proxies you run in front of AWS that append to the header.
        trusted_proxies: u32,
    },
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
}
