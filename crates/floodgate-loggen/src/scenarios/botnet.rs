//! A distributed flood: tens of thousands of attacking addresses, each a few times over the
//! flood limit, half packed into rented /24s, half scattered one per network (a few of those
//! inside carrier-NAT /24s among ordinary people), plus an IPv6 share packed into rented /48s,
//! on top of a crowd of ordinary clients with a few requests each.
//!
//! Ground truth for range bans is in the manifest's `networks` (see [`Botnet::networks`]).

use super::schedule::Schedule;
use super::{fresh_v4_net, pick, rng_for, v4_reserved};
use crate::catalog::{self, API, PAGES, QUERIES};
use crate::manifest::NetworkEntry;
use crate::model::{Actor, Client, Event, Method};
use crate::time::MINUTE;
use crate::{BotnetOptions, Format, Options};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Attacking addresses per rented /24.
pub const PER_RENTED_RANGE: u32 = 200;
/// Carrier-NAT /24s, and ordinary clients and attackers in each.
pub const NAT_RANGES: u32 = 3;
/// Ordinary clients per carrier-NAT /24.
pub const NAT_ORDINARY: u32 = 150;
/// Attackers per carrier-NAT /24.
pub const NAT_ATTACKERS: u32 = 3;
/// Attacking /64s per rented IPv6 /48.
pub const PER_RENTED_V6: u32 = 40;

/// The botnet's clients, their precomputed request times, and its networks.
pub struct Botnet {
    /// Which client sends a request when.
    schedule: Schedule<u32>,
    /// Range ground truth for the manifest.
    pub networks: Vec<NetworkEntry>,
    rng: ChaCha8Rng,
}

fn country(r: &mut ChaCha8Rng, list: &[&'static str]) -> &'static str {
    list[r.gen_range(0..list.len())]
}

/// `n` distinct host numbers 1..=254.
fn hosts(r: &mut ChaCha8Rng, n: u32) -> Vec<u32> {
    let mut all: Vec<u32> = (1..=254).collect();
    for i in 0..n as usize {
        let j = r.gen_range(i..all.len());
        all.swap(i, j);
    }
    all.truncate(n as usize);
    all.sort_unstable();
    all
}

impl Botnet {
    /// Creates the clients (appended to `clients`) and their request times.
    pub fn new(opts: &Options, b: &BotnetOptions, clients: &mut Vec<Client>) -> Botnet {
        let mut r = rng_for(opts.seed, 40);
        let format = if opts.formats.contains(&Format::Waf) {
            Format::Waf
        } else {
            opts.formats[0]
        };
        let mut add = |ip: IpAddr, actor: Actor, ua: u16, country: &'static str| -> u32 {
            clients.push(Client::new(ip, format, actor, ua, country, "FRA56-P1"));
            clients.len() as u32 - 1
        };
        let mut taken: HashSet<u32> = HashSet::new();
        let mut attackers: Vec<u32> = Vec::new();
        let mut ordinary: Vec<u32> = Vec::new();
        let mut networks = Vec::new();
        let bot_ua = |r: &mut ChaCha8Rng| match r.gen_range(0..10) {
            0..=3 => catalog::UA_PYTHON,
            4..=6 => catalog::UA_GO,
            7 => catalog::UA_OKHTTP,
            _ => r.gen_range(0..catalog::BROWSERS),
        };

        // IPv6: a small share packed into rented /48s, one attacker per /64.
        let v6_ranges = (b.attackers / 1000).min(5);
        let v6_attackers = v6_ranges * PER_RENTED_V6;
        let v4_attackers = b.attackers.saturating_sub(v6_attackers);
        let rented = v4_attackers / 2 / PER_RENTED_RANGE;
        let nat_attackers =
            (NAT_RANGES * NAT_ATTACKERS).min(v4_attackers - rented * PER_RENTED_RANGE);
        let scattered = v4_attackers - rented * PER_RENTED_RANGE - nat_attackers;

        for _ in 0..rented {
            let net = fresh_v4_net(&mut r, &mut taken);
            let c = country(&mut r, &["US", "NL", "DE", "SG", "RU"]);
            for h in hosts(&mut r, PER_RENTED_RANGE) {
                let ua = bot_ua(&mut r);
                attackers.push(add(Ipv4Addr::from(net | h).into(), Actor::Botnet, ua, c));
            }
            networks.push(NetworkEntry {
                cidr: format!("{}/24", Ipv4Addr::from(net)),
                kind: "rented".into(),
                attackers: PER_RENTED_RANGE as u64,
                ordinary: 0,
                quiet: 0,
                expect_range_ban: true,
            });
        }
        for i in 0..v6_ranges {
            let net48: u128 = (0x2a05u128 << 112)
                | ((0xd000 + i as u128) << 96)
                | ((r.gen::<u16>() as u128) << 80);
            let c = country(&mut r, &["US", "DE"]);
            for k in 0..PER_RENTED_V6 {
                let sub = (k as u128 + 1) << 64;
                let ip = Ipv6Addr::from(net48 | sub | r.gen::<u64>() as u128);
                let ua = bot_ua(&mut r);
                attackers.push(add(ip.into(), Actor::Botnet, ua, c));
            }
            networks.push(NetworkEntry {
                cidr: format!("{}/48", Ipv6Addr::from(net48)),
                kind: "rented".into(),
                attackers: PER_RENTED_V6 as u64,
                ordinary: 0,
                quiet: 0,
                expect_range_ban: true,
            });
        }
        // Carrier NATs: a public pool where a few attackers hide among ordinary people.
        let nat_ranges = if nat_attackers > 0 { NAT_RANGES } else { 0 };
        for i in 0..nat_ranges {
            let net = fresh_v4_net(&mut r, &mut taken);
            let c = country(&mut r, &["IN", "BR", "ID"]);
            let n_att = (nat_attackers - i * NAT_ATTACKERS).min(NAT_ATTACKERS);
            let hs = hosts(&mut r, NAT_ORDINARY + n_att);
            for (j, h) in hs.into_iter().enumerate() {
                let ip = Ipv4Addr::from(net | h).into();
                if (j as u32) < n_att {
                    let ua = bot_ua(&mut r);
                    attackers.push(add(ip, Actor::Botnet, ua, c));
                } else {
                    let ua = r.gen_range(0..catalog::BROWSERS);
                    ordinary.push(add(ip, Actor::CarrierNat, ua, c));
                }
            }
            networks.push(NetworkEntry {
                cidr: format!("{}/24", Ipv4Addr::from(net)),
                kind: "carrier-nat".into(),
                attackers: n_att as u64,
                ordinary: NAT_ORDINARY as u64,
                quiet: 0,
                expect_range_ban: false,
            });
        }
        for _ in 0..scattered {
            let net = fresh_v4_net(&mut r, &mut taken);
            let ua = bot_ua(&mut r);
            let c = country(&mut r, &["CN", "BR", "VN", "IN", "US", "RU", "TR", "EG"]);
            let h = r.gen_range(1..=254);
            attackers.push(add(Ipv4Addr::from(net | h).into(), Actor::Botnet, ua, c));
        }
        // The crowd: ordinary clients anywhere but in the attackers' /24s.
        for _ in 0..b.ordinary {
            let ip: IpAddr = if r.gen_bool(0.1) {
                Ipv6Addr::from(
                    (0x2600u128 << 112) | ((r.gen::<u64>() as u128) << 48) | r.gen::<u32>() as u128,
                )
                .into()
            } else {
                loop {
                    let a: u32 = r.gen();
                    if !v4_reserved(a) && !taken.contains(&(a & 0xffff_ff00)) {
                        break Ipv4Addr::from(a).into();
                    }
                }
            };
            let ua = r.gen_range(0..catalog::BROWSERS);
            let c = country(&mut r, &["US", "DE", "FR", "GB", "JP", "BR", "IN"]);
            ordinary.push(add(ip, Actor::Crowd, ua, c));
        }

        // Request times: each attacker sends `b.requests` within `b.burst_ms`, starting at a
        // random time in the attack period; each ordinary client a few over the whole run.
        let span = opts.duration_ms.max(MINUTE);
        let mut schedule = Schedule::new(opts.start_ms, span);
        let attack_from = opts.start_ms + b.attack_start_ms.min(span - 1);
        let attack_len = (span - b.attack_start_ms - b.burst_ms).max(1);
        for &c in &attackers {
            let t0 = attack_from + r.gen_range(0..attack_len);
            for _ in 0..b.requests {
                schedule.put(t0 + r.gen_range(0..b.burst_ms), c);
            }
        }
        for &c in &ordinary {
            for _ in 0..r.gen_range(1..=6) {
                schedule.put(opts.start_ms + r.gen_range(0..span), c);
            }
        }
        schedule.sort();
        Botnet {
            schedule,
            networks,
            rng: rng_for(opts.seed, 41),
        }
    }

    /// Appends every event with `from <= t < to`.
    pub fn fill(&mut self, from: i64, to: i64, clients: &[Client], out: &mut Vec<Event>) {
        for (t, ci) in self.schedule.between(from, to) {
            let c = &clients[ci as usize];
            let res = if self.rng.gen_bool(0.7) {
                pick(&mut self.rng, PAGES)
            } else {
                pick(&mut self.rng, API)
            };
            let mut e = super::event(t, ci, c, res, Method::Get, 200, c.ua);
            if c.actor == Actor::Botnet && self.rng.gen_bool(0.3) {
                e.query = pick(&mut self.rng, 1..QUERIES.len() as u16);
            }
            out.push(e);
        }
    }
}
