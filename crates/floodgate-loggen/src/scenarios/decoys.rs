//! Credential stuffers hidden behind decoys by an attacker who has read floodgate's docs.
//!
//! The docs say a broken-rule guardrail holds a rule's new bans back when they would hit too
//! much of the site's audience. So the attacker adds, next to the real stuffers, traffic meant
//! to make the `login` rule look broken:
//!
//! * **decoys**: thousands of IPv6 /64s of one /48 (a routed /48 costs nothing), each just
//!   over the limit (21 `POST /login`), plus quiet /64s of the same /48 with one `GET` each, so
//!   that the /48's share of offenders stays under `ranges.min_share`;
//! * **aged decoys**: /64s of a second /48 that each send one request well before the attack,
//!   to pass as the site's established audience, then go just over the limit;
//! * **path spellings**: some stuffers send `/Login`, `//login`, `/login;x`, `/%6Cogin`,
//!   `/login/` or `/./login`, which the origin routes to `/login`.
//!
//! The real stuffers are scattered one IPv4 address per /24. Ground truth: every stuffer and
//! decoy key must be banned (computed from the events like every scenario's); the manifest's
//! `networks` say which /48s must be banned whole.

use super::schedule::Schedule;
use super::{fresh_v4_net, rng_for};
use crate::catalog::{self, LOGIN, LOGIN_SPELLINGS, PAGES};
use crate::manifest::NetworkEntry;
use crate::model::{Actor, Client, Event, Method};
use crate::time::MINUTE;
use crate::truth;
use crate::{DecoysOptions, Format, Options};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Every attacker starts its burst at a random time within this long after the attack starts.
const SPREAD_MS: i64 = 10 * MINUTE;
/// An attacker's burst: all its `POST`s fall within this, well inside the 5-minute window.
const BURST_MS: i64 = 4 * MINUTE;
/// Aged decoys' first request is at least this long before the attack (twice the default
/// `[ban.guardrail] history`).
const AGE_MS: i64 = 20 * MINUTE;
/// Requests of each decoy: the `login` limit (20) plus one.
const DECOY_POSTS: u32 = 21;
/// Stuffers that spell the login path otherwise: the first 24 use one spelling each (4 per
/// spelling), the next 6 rotate through `/login` and every spelling request by request.
const SPELLED_ONE: u32 = 24;
const SPELLED_MIXED: u32 = 6;
/// The decoys' /48s are drawn under this /16, which background users never get
/// (they use 2400::/12, 2600::/12 and 2a00::/12).
const DECOY_V6_HI: u16 = 0x2a12;
/// /64s a /48 holds past its first (numbered 1.. by [`sub64`]): more decoys are not made.
const MAX_64S: u32 = 0xffff;

/// One planned request.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Planned {
    client: u32,
    res: u16,
    post: bool,
    status: u16,
}

/// The stuffers' and decoys' clients, their planned requests, and the decoy networks.
pub struct Decoys {
    schedule: Schedule<Planned>,
    /// Range ground truth for the manifest.
    pub networks: Vec<NetworkEntry>,
}

/// A /48 under [`DECOY_V6_HI`] not in `taken`.
fn fresh_v6_net(r: &mut ChaCha8Rng, taken: &mut HashSet<u128>) -> u128 {
    loop {
        let net = ((DECOY_V6_HI as u128) << 112) | ((r.gen::<u32>() as u128) << 80);
        if taken.insert(net) {
            return net;
        }
    }
}

/// The /64 number `k` of a /48, with a random interface id.
fn sub64(r: &mut ChaCha8Rng, net48: u128, k: u32) -> IpAddr {
    Ipv6Addr::from(net48 | ((k as u128 + 1) << 64) | r.gen::<u64>() as u128).into()
}

impl Decoys {
    /// Creates the clients (appended to `clients`, after the background users whose /24s the
    /// stuffers avoid) and plans their requests.
    pub fn new(opts: &Options, d: &DecoysOptions, clients: &mut Vec<Client>) -> Decoys {
        let mut r = rng_for(opts.seed, 50);
        let format = |want: Format| {
            if opts.formats.contains(&want) {
                want
            } else {
                opts.formats[0]
            }
        };
        let mut taken: HashSet<u32> = clients
            .iter()
            .filter_map(|c| match c.ip {
                IpAddr::V4(v) => Some(u32::from(v) & 0xffff_ff00),
                IpAddr::V6(_) => None,
            })
            .collect();
        let mut add = |ip: IpAddr, actor: Actor, format: Format, ua: u16, country: &'static str| {
            clients.push(Client::new(ip, format, actor, ua, country, "FRA56-P1"));
            clients.len() as u32 - 1
        };

        let span = opts.duration_ms.max(MINUTE);
        let start = opts.start_ms;
        let attack_from = start + d.attack_start_ms.min(span / 2);
        let end = start + span;
        let spread = SPREAD_MS.min(end - attack_from - BURST_MS).max(1);
        let mut schedule = Schedule::new(start, span);
        let mut burst = |r: &mut ChaCha8Rng, client: u32, posts: u32, res: &dyn Fn(u32) -> u16| {
            let t0 = attack_from + r.gen_range(0..spread);
            for k in 0..posts {
                let status = if r.gen_bool(0.95) { 401 } else { 200 };
                let planned = Planned {
                    client,
                    res: res(k),
                    post: true,
                    status,
                };
                schedule.put(t0 + r.gen_range(0..BURST_MS), planned);
            }
            t0
        };
        let get = |client: u32, res: u16| Planned {
            client,
            res,
            post: false,
            status: 200,
        };

        // (a) real stuffers, one per /24, every other one in WAF and ALB logs.
        let spellings = LOGIN_SPELLINGS.end - LOGIN_SPELLINGS.start;
        let mut planned_gets: Vec<(i64, Planned)> = Vec::new();
        for i in 0..d.stuffers {
            let net = fresh_v4_net(&mut r, &mut taken);
            let ip = Ipv4Addr::from(net | r.gen_range(1..=254)).into();
            let ua = match r.gen_range(0..4) {
                0 => catalog::UA_PYTHON,
                1 => catalog::UA_GO,
                _ => r.gen_range(0..catalog::BROWSERS),
            };
            let country = ["BR", "VN", "IN", "US", "RU", "TR", "ID"][r.gen_range(0..7)];
            let f = format(if i % 2 == 0 { Format::Waf } else { Format::Alb });
            let c = add(ip, Actor::Stuffer, f, ua, country);
            let posts = r.gen_range(24..=28);
            let res = move |k: u32| -> u16 {
                if i < SPELLED_ONE {
                    LOGIN_SPELLINGS.start + (i % spellings as u32) as u16
                } else if i < SPELLED_ONE + SPELLED_MIXED {
                    match k % (spellings as u32 + 1) {
                        0 => LOGIN,
                        s => LOGIN_SPELLINGS.start + s as u16 - 1,
                    }
                } else {
                    LOGIN
                }
            };
            let t0 = burst(&mut r, c, posts, &res);
            // The login page first, as a browser-driven stuffer does.
            planned_gets.push((t0 - r.gen_range(1000..5000), get(c, LOGIN)));
        }

        // (b) decoys and quiet /64s of one /48.
        let mut nets48 = HashSet::new();
        let net48 = fresh_v6_net(&mut r, &mut nets48);
        let waf = format(Format::Waf);
        let decoys = d.decoys.min(MAX_64S);
        let quiet = d.quiet.min(MAX_64S - decoys);
        for k in 0..decoys {
            let ip = sub64(&mut r, net48, k);
            let c = add(ip, Actor::Decoy, waf, catalog::UA_PYTHON, "NL");
            burst(&mut r, c, DECOY_POSTS, &|_| LOGIN);
        }
        for k in 0..quiet {
            let ip = sub64(&mut r, net48, decoys + k);
            let ua = r.gen_range(0..catalog::BROWSERS);
            let c = add(ip, Actor::DecoyQuiet, waf, ua, "NL");
            let t = attack_from + r.gen_range(0..spread + BURST_MS);
            planned_gets.push((t, get(c, r.gen_range(PAGES))));
        }
        let network = |net48: u128, kind: &str, attackers: u32, quiet: u32| NetworkEntry {
            cidr: format!("{}/48", Ipv6Addr::from(net48)),
            kind: kind.into(),
            attackers: attackers.into(),
            ordinary: 0,
            quiet: quiet.into(),
            expect_range_ban: truth::range_ban_expected(true, attackers, quiet),
        };
        let mut networks = Vec::new();
        if decoys + quiet > 0 {
            networks.push(network(net48, "decoy", decoys, quiet));
        }

        // (c) aged decoys of a second /48: one GET long before the attack, then the burst.
        let aged48 = fresh_v6_net(&mut r, &mut nets48);
        let alb = format(Format::Alb);
        let age_until = (attack_from - AGE_MS).max(start + 1);
        let aged = d.aged.min(MAX_64S);
        for k in 0..aged {
            let ip = sub64(&mut r, aged48, k);
            let ua = r.gen_range(0..catalog::BROWSERS);
            let c = add(ip, Actor::DecoyAged, alb, ua, "DE");
            let early = start + r.gen_range(0..age_until - start);
            planned_gets.push((early, get(c, r.gen_range(PAGES))));
            burst(&mut r, c, DECOY_POSTS, &|_| LOGIN);
        }
        if aged > 0 {
            networks.push(network(aged48, "aged-decoy", aged, 0));
        }
        for (t, p) in planned_gets {
            schedule.put(t, p);
        }
        schedule.sort();
        Decoys { schedule, networks }
    }

    /// Appends every event with `from <= t < to`.
    pub fn fill(&mut self, from: i64, to: i64, clients: &[Client], out: &mut Vec<Event>) {
        for (t, p) in self.schedule.between(from, to) {
            let c = &clients[p.client as usize];
            let method = if p.post { Method::Post } else { Method::Get };
            out.push(super::event(t, p.client, c, p.res, method, p.status, c.ua));
        }
    }
}
