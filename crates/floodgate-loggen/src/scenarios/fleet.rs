//! A residential-proxy fleet, shaped like the 2026 incidents of issue #24: thousands of
//! addresses, one or two requests each, all on one path (`/search`) with a query string never
//! seen twice, rotating real browsers' user agents (older Chrome majors among them). Most of
//! the fleet is headless and gives itself away only by TLS fingerprints nobody else sends
//! ([`catalog::FLEET_TLS`]), a few say `HeadlessChrome`; the rest ([`FleetOptions`]'
//! `ordinary_pct`) sends the background's own browser agents with their ordinary fingerprints:
//! indistinguishable from the site's audience. It starts after the background's history (an
//! hour by default) and lasts minutes, and from the third minute the origin mostly answers 503.
//!
//! No address comes near any per-address limit: the manifest's `fleet` says what a detector of
//! surges must find (when, where, which fingerprints), and every client entry `expect_ban:
//! false`.

use super::schedule::Schedule;
use super::{fresh_v4_net, rng_for};
use crate::catalog::{self, FLEET_TLS, FLEET_UAS, UA_HEADLESS};
use crate::model::{Actor, Client, Event, Method};
use crate::time::MINUTE;
use crate::{FleetOptions, Format, Options};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `/search` in the catalog.
const SEARCH: u16 = 11;

/// What one fleet client sends: headless with a fleet fingerprint (by index), or ordinary.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Disguise {
    /// A fleet-only TLS fingerprint; `honest` clients also say HeadlessChrome.
    Headless { tls: u8, honest: bool },
    /// The background's browsers, their own fingerprints.
    Ordinary,
}

/// The fleet's clients and their planned requests.
pub struct Fleet {
    schedule: Schedule<(u32, u32)>,
    disguise: Vec<Disguise>,
    first: u32,
    rng: ChaCha8Rng,
    /// Start of the attack window (the origin gives out two minutes later).
    from_ms: i64,
}

/// Countries of the residential exits, weighted by repetition.
const COUNTRIES: [&str; 12] = [
    "US", "US", "US", "BR", "BR", "IN", "DE", "GB", "FR", "MX", "ID", "VN",
];

impl Fleet {
    /// Creates the fleet's clients (appended to `clients`, away from every address already
    /// there) and plans their requests.
    pub fn new(opts: &Options, f: &FleetOptions, clients: &mut Vec<Client>) -> Fleet {
        let mut r = rng_for(opts.seed, 60);
        let format = if opts.formats.contains(&Format::Waf) {
            Format::Waf
        } else {
            opts.formats[0]
        };
        let span = opts.duration_ms.max(MINUTE);
        let length = f.length_ms.clamp(MINUTE, span);
        let start = f.start_ms.clamp(0, span - length);
        let from_ms = opts.start_ms + start;

        // Residential addresses: one per /24 (or /64), never an existing client's network.
        let mut taken: HashSet<u32> = HashSet::new();
        let mut taken6: HashSet<u64> = HashSet::new();
        for c in clients.iter() {
            match c.ip {
                IpAddr::V4(a) => taken.insert(u32::from(a) & 0xffff_ff00),
                IpAddr::V6(a) => taken6.insert((u128::from(a) >> 64) as u64),
            };
        }
        let first = clients.len() as u32;
        let mut disguise = Vec::with_capacity(f.addresses as usize);
        for _ in 0..f.addresses {
            let ip: IpAddr = if r.gen_bool(0.12) {
                loop {
                    let net = (0x2a02u64 << 48) | r.gen_range(0..1u64 << 44);
                    if taken6.insert(net) {
                        break Ipv6Addr::from(((net as u128) << 64) | r.gen::<u64>() as u128)
                            .into();
                    }
                }
            } else {
                let net = fresh_v4_net(&mut r, &mut taken);
                Ipv4Addr::from(net | r.gen_range(1..=254)).into()
            };
            let d = if r.gen_range(0..100) < f.ordinary_pct as u32 {
                Disguise::Ordinary
            } else {
                Disguise::Headless {
                    tls: r.gen_range(FLEET_TLS),
                    honest: r.gen_bool(0.1),
                }
            };
            let country = COUNTRIES[r.gen_range(0..COUNTRIES.len())];
            let ua = match d {
                Disguise::Ordinary => r.gen_range(0..catalog::BROWSERS),
                Disguise::Headless { honest: true, .. } => UA_HEADLESS,
                Disguise::Headless { .. } => r.gen_range(FLEET_UAS),
            };
            clients.push(Client::new(
                ip,
                format,
                Actor::Fleet,
                ua,
                country,
                "IAD89-C1",
            ));
            disguise.push(d);
        }

        // One request each, two for about a third; every one with its own query number.
        let mut schedule = Schedule::new(opts.start_ms, span);
        let mut seq = 0u32;
        for i in 0..f.addresses {
            let n = if r.gen_bool(0.35) { 2 } else { 1 };
            for _ in 0..n {
                seq += 1;
                schedule.put(from_ms + r.gen_range(0..length), (first + i, seq));
            }
        }
        schedule.sort();
        Fleet {
            schedule,
            disguise,
            first,
            rng: rng_for(opts.seed, 61),
            from_ms,
        }
    }

    /// Appends every event with `from <= t < to`.
    pub fn fill(&mut self, from: i64, to: i64, clients: &[Client], out: &mut Vec<Event>) {
        for (t, (ci, seq)) in self.schedule.between(from, to) {
            let c = &clients[ci as usize];
            let d = self.disguise[(ci - self.first) as usize];
            // Rotation: another agent of the same kind on each request.
            let ua = match d {
                Disguise::Ordinary => self.rng.gen_range(0..catalog::BROWSERS),
                Disguise::Headless { honest: true, .. } => UA_HEADLESS,
                Disguise::Headless { .. } => self.rng.gen_range(FLEET_UAS),
            };
            let overwhelmed = t - self.from_ms >= 2 * MINUTE && self.rng.gen_bool(0.85);
            let status = if overwhelmed { 503 } else { 200 };
            let mut e = super::event(t, ci, c, SEARCH, Method::Get, status, ua);
            if let Disguise::Headless { tls, .. } = d {
                e.tls = tls;
            }
            // Odd and non-zero: never the "no generated query" value.
            e.qseed = seq.wrapping_mul(2).wrapping_add(1);
            out.push(e);
        }
    }
}
