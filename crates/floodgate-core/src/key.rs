//! Keys: the unit that is counted and banned — a client address masked to a prefix.
//!
//! IPv4 keys are the address masked to `ipv4_prefix` (default /32), IPv6 keys to `ipv6_prefix`
//! (default /64, since one host controls a whole /64 and rotates within it). A key is stored as
//! two `u64`s (16 bytes, 8-byte aligned) to keep per-client memory small; IPv4 lives in the
//! IPv4-mapped range `::ffff:0:0/96`, where no real IPv6 key can be because mapped addresses are
//! normalised to IPv4 when parsed.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A masked client address. Ordered by its 128-bit value, which puts IPv4 keys (`::ffff:…`)
/// among low IPv6 values: sort by [`Key::cidr`] where people read the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key(pub u64, pub u64);

const V4_MAPPED_HI: u64 = 0;
const V4_MAPPED_LO_TAG: u64 = 0xffff_0000_0000;

impl Key {
    /// Mask `ip` to the configured prefix.
    pub fn from_ip(ip: IpAddr, v4_prefix: u8, v6_prefix: u8) -> Key {
        match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let masked = if v4_prefix == 0 {
                    0
                } else {
                    bits & (u32::MAX << (32 - v4_prefix as u32))
                };
                Key(V4_MAPPED_HI, V4_MAPPED_LO_TAG | masked as u64)
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let masked = if v6_prefix == 0 {
                    0
                } else {
                    bits & (u128::MAX << (128 - v6_prefix as u32))
                };
                Key((masked >> 64) as u64, masked as u64)
            }
        }
    }

    /// Whether this is an IPv4 key.
    pub fn is_ipv4(self) -> bool {
        self.0 == V4_MAPPED_HI && (self.1 >> 32) == 0xffff
    }

    /// The network address of the key.
    pub fn addr(self) -> IpAddr {
        if self.is_ipv4() {
            IpAddr::V4(Ipv4Addr::from(self.1 as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(((self.0 as u128) << 64) | self.1 as u128))
        }
    }

    /// The key as a CIDR with the configured prefix length.
    pub fn cidr(self, v4_prefix: u8, v6_prefix: u8) -> IpNet {
        match self.addr() {
            IpAddr::V4(a) => IpNet::V4(Ipv4Net::new(a, v4_prefix).expect("prefix validated")),
            IpAddr::V6(a) => IpNet::V6(Ipv6Net::new(a, v6_prefix).expect("prefix validated")),
        }
    }
}

/// Whether `ip` lies in any allowlisted network.
pub fn allowed(allow: &[IpNet], ip: IpAddr) -> bool {
    allow.iter().any(|n| n.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_round_trips() {
        let k = Key::from_ip("203.0.113.77".parse().unwrap(), 24, 64);
        assert!(k.is_ipv4());
        assert_eq!(k.cidr(24, 64).to_string(), "203.0.113.0/24");
        let a = Key::from_ip("2001:db8:bad:1::5".parse().unwrap(), 32, 64);
        let b = Key::from_ip("2001:db8:bad:1:ffff::9".parse().unwrap(), 32, 64);
        assert_eq!(a, b);
        assert!(!a.is_ipv4());
        assert_eq!(a.cidr(32, 64).to_string(), "2001:db8:bad:1::/64");
        assert_eq!(
            Key::from_ip("1.2.3.4".parse().unwrap(), 32, 64)
                .cidr(32, 64)
                .to_string(),
            "1.2.3.4/32"
        );
        assert_ne!(
            Key::from_ip("::".parse().unwrap(), 32, 128),
            Key::from_ip("0.0.0.0".parse().unwrap(), 32, 128)
        );
        assert_eq!(std::mem::size_of::<Key>(), 16);
    }
}
