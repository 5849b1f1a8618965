//! The two things an attacker writes to choose how floodgate counts them: the X-Forwarded-For
//! list (`client_ip::client_from`, with and without `proxies`) and the path rules match
//! (`paths::normalize`). Input: one option byte, then the header and the path separated by
//! the first NUL.
#![no_main]

use floodgate_core::client_ip::{client_from, parse_ip, Proxies};
use floodgate_core::paths::normalize;
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|input: &[u8]| {
    let Some((&opt, rest)) = input.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (xff, path) = text.split_once('\0').unwrap_or((text, ""));

    // X-Forwarded-For: the client is the peer, or an entry of the list that is no proxy.
    let proxies = if opt & 1 == 1 {
        Proxies::new(vec![
            "0.0.0.0/1".parse().expect("CIDR"),
            "::/1".parse().expect("CIDR"),
        ])
    } else {
        Proxies::default()
    };
    let peer: Option<IpAddr> = match opt >> 1 & 3 {
        0 => None,
        1 => Some("1.2.3.4".parse().expect("IP")), // a proxy
        _ => Some("200.1.1.1".parse().expect("IP")), // not a proxy
    };
    let entries: Vec<IpAddr> = xff.split(',').filter_map(parse_ip).collect();
    if let Ok(ip) = client_from(peer, xff, u32::from(opt >> 3 & 3), &proxies) {
        if proxies.is_empty() {
            assert!(entries.contains(&ip), "{ip} not in {xff:?}");
        } else {
            assert!(!proxies.contains(ip), "a proxy {ip} became the client");
            let p = peer.expect("proxies need a peer");
            assert!(ip == p || (proxies.contains(p) && entries.contains(&ip)));
        }
    }

    // Paths: normal form, and normalising it again changes nothing (decoding aside).
    let n = normalize(path);
    assert!(!n.contains("//"), "{n:?}");
    assert!(!n.contains(';'), "{n:?}");
    assert!(!n.split('/').any(|s| s == "." || s == ".."), "{n:?}");
    assert!(n.len() <= 1 || !n.ends_with('/'), "{n:?}");
    if !n.contains('%') {
        assert_eq!(normalize(&n), n);
    }
});
