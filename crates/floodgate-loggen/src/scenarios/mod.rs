//! The actors: who sends which requests when.
//!
//! Every actor owns its own seeded RNG and emits events for one time slice at a time, so the
//! output is deterministic and memory stays bounded however long the run is.

mod background;
mod botnet;
mod decoys;
mod fleet;
mod nat;
mod schedule;

use crate::catalog::{self, API, HEALTH, LOGIN, PAGES, QUERIES, SCAN};
use crate::model::{Actor, Client, Event, Method};
use crate::time::MINUTE;
use crate::{Format, Options, Scenario};
use background::Background;
use botnet::Botnet;
use decoys::Decoys;
use fleet::Fleet;
use nat::Nat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// A seeded RNG for one named purpose, independent of every other purpose.
pub fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

pub(crate) fn exp_ms(rng: &mut ChaCha8Rng, mean_ms: f64) -> i64 {
    let u: f64 = rng.gen_range(1e-9..1.0);
    (-u.ln() * mean_ms) as i64 + 1
}

pub(crate) fn pick<T>(rng: &mut ChaCha8Rng, r: Range<T>) -> T
where
    T: Copy + rand::distributions::uniform::SampleUniform + PartialOrd,
{
    rng.gen_range(r)
}

pub(crate) fn v4_reserved(a: u32) -> bool {
    let o = a.to_be_bytes();
    matches!(o[0], 0 | 10 | 127 | 224..=255)
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 169 && o[1] == 254)
        || (o[0] == 172 && (16..32).contains(&o[1]))
        || (o[0] == 192 && o[1] == 168)
        || (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2))
        || (o[0] == 192 && o[1] == 88 && o[2] == 99)
        || (o[0] == 198 && (18..20).contains(&o[1]))
        || (o[0] == 198 && o[1] == 51 && o[2] == 100)
        || (o[0] == 203 && o[1] == 0 && o[2] == 113)
}

/// A /24 not reserved, not yet taken (and now taken).
pub(crate) fn fresh_v4_net(r: &mut ChaCha8Rng, taken: &mut HashSet<u32>) -> u32 {
    loop {
        let net = r.gen::<u32>() & 0xffff_ff00;
        if !v4_reserved(net) && taken.insert(net) {
            return net;
        }
    }
}

/// All clients and actors of one run.
pub struct World {
    pub clients: Vec<Client>,
    streams: Vec<Stream>,
    nat: Option<Nat>,
    background: Option<Background>,
    botnet: Option<Botnet>,
    decoys: Option<Decoys>,
    fleet: Option<Fleet>,
}

impl World {
    /// Creates the clients and actors that `opts` asks for.
    pub fn new(opts: &Options) -> World {
        let fmt = |a: Actor| -> Format {
            let n = a.natural_format();
            let cloudfront_output = || {
                (n == Format::Cloudfront)
                    .then(|| opts.formats.iter().copied().find(|f| f.is_cloudfront()))
                    .flatten()
            };
            if opts.formats.contains(&n) {
                n
            } else {
                cloudfront_output().unwrap_or(opts.formats[0])
            }
        };
        let want = |a: Scenario| opts.scenario == Scenario::Mixed || opts.scenario == a;
        let mut clients: Vec<Client> = Vec::new();
        let mut add =
            |ip: IpAddr, actor: Actor, ua: u16, country: &'static str, edge: &'static str| -> u32 {
                clients.push(Client::new(ip, fmt(actor), actor, ua, country, edge));
                clients.len() as u32 - 1
            };
        let s = opts.start_ms;
        let mut streams = Vec::new();
        let stream = |actor: Actor, clients: Range<u32>, from: i64, len: i64, id: u64| Stream {
            actor,
            clients,
            end: s + from + len,
            next: s + from,
            rng: rng_for(opts.seed, 100 + id),
            seq: 0,
        };
        if want(Scenario::Flood) {
            let a = add(
                Ipv4Addr::new(203, 0, 113, 10).into(),
                Actor::Flood,
                catalog::UA_PYTHON,
                "CN",
                "HKG62-C1",
            );
            add(
                Ipv4Addr::new(203, 0, 113, 11).into(),
                Actor::Flood,
                catalog::UA_GO,
                "RU",
                "WAW51-P3",
            );
            add(
                Ipv4Addr::new(203, 0, 113, 12).into(),
                Actor::Flood,
                catalog::UA_PYTHON,
                "BR",
                "GRU3-C1",
            );
            streams.push(stream(Actor::Flood, a..a + 3, 20 * MINUTE, 3 * MINUTE, 1));
        }
        if want(Scenario::Scanner) {
            let a = add(
                Ipv4Addr::new(198, 51, 100, 7).into(),
                Actor::Scanner,
                catalog::UA_ZGRAB,
                "NL",
                "AMS58-P2",
            );
            streams.push(stream(
                Actor::Scanner,
                a..a + 1,
                30 * MINUTE,
                45 * MINUTE,
                2,
            ));
        }
        if want(Scenario::Bruteforce) {
            let a = add(
                Ipv4Addr::new(192, 0, 2, 50).into(),
                Actor::Bruteforce,
                catalog::UA_PYTHON,
                "VN",
                "HAN50-C1",
            );
            streams.push(stream(
                Actor::Bruteforce,
                a..a + 1,
                40 * MINUTE,
                20 * MINUTE,
                3,
            ));
        }
        if want(Scenario::Ipv6Rotation) {
            let mut r = rng_for(opts.seed, 4);
            let mut first = u32::MAX;
            let mut last = 0;
            let mut seen = HashSet::new();
            while seen.len() < 200 {
                let iid: u64 = r.gen();
                if !seen.insert(iid) {
                    continue;
                }
                let ip = Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    0xbad,
                    1,
                    (iid >> 48) as u16,
                    (iid >> 32) as u16,
                    (iid >> 16) as u16,
                    iid as u16,
                );
                last = add(
                    ip.into(),
                    Actor::Ipv6Rotation,
                    catalog::UA_GO,
                    "SG",
                    "SIN2-P4",
                );
                first = first.min(last);
            }
            streams.push(stream(
                Actor::Ipv6Rotation,
                first..last + 1,
                65 * MINUTE,
                4 * MINUTE,
                5,
            ));
        }
        if want(Scenario::Healthcheck) {
            let a = add(
                Ipv4Addr::new(10, 0, 1, 10).into(),
                Actor::Healthcheck,
                catalog::UA_HEALTH,
                "-",
                "IAD89-C1",
            );
            streams.push(stream(Actor::Healthcheck, a..a + 1, 0, i64::MAX / 4, 6));
        }
        let nat = if want(Scenario::NatOffice) {
            let c = add(
                Ipv4Addr::new(198, 18, 7, 7).into(),
                Actor::NatOffice,
                0,
                "DE",
                "FRA56-P1",
            );
            Some(Nat::new(c, opts.start_ms, rng_for(opts.seed, 7)))
        } else {
            None
        };
        let botnet = (opts.scenario == Scenario::Botnet)
            .then(|| Botnet::new(opts, &opts.botnet, &mut clients));
        let background = (opts.users > 0 && botnet.is_none())
            .then(|| Background::new(opts, &mut clients, fmt(Actor::Background)));
        // After the background: the stuffers keep out of its /24s.
        let decoys = (opts.scenario == Scenario::Decoys)
            .then(|| Decoys::new(opts, &opts.decoys, &mut clients));
        // After the background too: the fleet keeps out of its networks.
        let fleet = (opts.scenario == Scenario::ResidentialFleet)
            .then(|| Fleet::new(opts, &opts.fleet, &mut clients));
        World {
            clients,
            streams,
            nat,
            background,
            botnet,
            decoys,
            fleet,
        }
    }

    /// Networks whose range-ban truth is known (the botnet's and the decoys').
    pub fn networks(&self) -> Vec<crate::manifest::NetworkEntry> {
        let botnet = self.botnet.iter().flat_map(|b| b.networks.iter());
        let decoys = self.decoys.iter().flat_map(|d| d.networks.iter());
        botnet.chain(decoys).cloned().collect()
    }

    /// Appends every event with `from <= t < to` (in no particular order).
    pub fn fill(&mut self, from: i64, to: i64, out: &mut Vec<Event>) {
        for s in &mut self.streams {
            s.fill(from, to, &self.clients, out);
        }
        if let Some(n) = &mut self.nat {
            n.fill(from, to, &self.clients, out);
        }
        if let Some(b) = &mut self.background {
            b.fill(from, to, &self.clients, out);
        }
        if let Some(b) = &mut self.botnet {
            b.fill(from, to, &self.clients, out);
        }
        if let Some(d) = &mut self.decoys {
            d.fill(from, to, &self.clients, out);
        }
        if let Some(f) = &mut self.fleet {
            f.fill(from, to, &self.clients, out);
        }
    }
}

pub(crate) fn event(
    t: i64,
    client: u32,
    c: &Client,
    res: u16,
    method: Method,
    status: u16,
    ua: u16,
) -> Event {
    Event {
        t,
        order: t,
        client,
        res,
        query: 0,
        referer: 0,
        status,
        ua,
        tls: catalog::tls_of_ua(ua),
        qseed: 0,
        method,
        format: c.format,
        flags: 0,
    }
}

/// A steady attacker or health checker: one request every `gap`, from one of `clients`.
struct Stream {
    actor: Actor,
    clients: Range<u32>,
    end: i64,
    next: i64,
    rng: ChaCha8Rng,
    seq: u64,
}

impl Stream {
    fn fill(&mut self, from: i64, to: i64, clients: &[Client], out: &mut Vec<Event>) {
        let to = to.min(self.end);
        while self.next < to {
            let t = self.next;
            let gap = match self.actor {
                Actor::Flood => exp_ms(&mut self.rng, 1000.0 / 30.0),
                Actor::Scanner => pick(&mut self.rng, 3500..4500),
                Actor::Bruteforce => pick(&mut self.rng, 2500..3500),
                Actor::Ipv6Rotation => exp_ms(&mut self.rng, 200.0),
                _ => 200,
            };
            self.next += gap;
            self.seq += 1;
            if t < from {
                continue;
            }
            let n = self.clients.end - self.clients.start;
            let ci = self.clients.start + if n > 1 { self.rng.gen_range(0..n) } else { 0 };
            let c = &clients[ci as usize];
            let mut ev = match self.actor {
                Actor::Flood | Actor::Ipv6Rotation => {
                    let res = if self.rng.gen_bool(0.6) {
                        pick(&mut self.rng, PAGES)
                    } else {
                        pick(&mut self.rng, API)
                    };
                    let mut e = event(t, ci, c, res, Method::Get, 200, c.ua);
                    e.query = if self.rng.gen_bool(0.3) {
                        pick(&mut self.rng, 1..QUERIES.len() as u16)
                    } else {
                        0
                    };
                    e
                }
                Actor::Scanner => {
                    let res = SCAN.start + (self.seq % (SCAN.end - SCAN.start) as u64) as u16;
                    let status = if self.rng.gen_bool(0.1) { 403 } else { 404 };
                    let m = if self.rng.gen_bool(0.1) {
                        Method::Head
                    } else {
                        Method::Get
                    };
                    event(t, ci, c, res, m, status, c.ua)
                }
                Actor::Bruteforce => event(t, ci, c, LOGIN, Method::Post, 401, c.ua),
                _ => event(
                    t + self.rng.gen_range(0..20),
                    ci,
                    c,
                    HEALTH,
                    Method::Get,
                    200,
                    c.ua,
                ),
            };
            ev.t = ev.t.min(to - 1);
            out.push(ev);
        }
    }
}
