//! Background users: human-like sessions, each user far below every default limit.

use super::{event, exp_ms, pick, rng_for, v4_reserved};
use crate::catalog::{self, API, ASSETS, BROWSERS, COUNTRIES, LOGIN, PAGES, QUERIES};
use crate::model::{Actor, Client, Event, Method, FLAG_BLOCKED};
use crate::time::{HOUR, MINUTE};
use crate::{Format, Options};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Sessions per background user per hour at the diurnal peak.
const SESSIONS_PER_USER_HOUR: f64 = 0.75;
/// Idle time a background user keeps between sessions: with ≤ 140 requests per session, no
/// 5-minute window can hold more than two sessions (≤ 280 < 50% of 600).
const SESSION_GAP_MS: i64 = 5 * MINUTE + 1000;
/// Hard cap on requests per background session.
const MAX_SESSION_REQUESTS: usize = 140;
/// At most this many 4xx per session: a 10-minute window spans ≤ 3 sessions → ≤ 9 < 50.
const MAX_SESSION_4XX: u32 = 3;

/// Ordinary visitors: sessions of pages, assets and XHRs with human think times.
pub struct Background {
    first: u32,
    n: u32,
    busy_until: Vec<i64>,
    rng: ChaCha8Rng,
    next_session: i64,
    per_ms: f64,
    /// Future events bucketed by minute; bucket 0 is minute `base_min`.
    pending: VecDeque<Vec<Event>>,
    base_min: i64,
    spare: Vec<Vec<Event>>,
    session: Vec<Event>,
}

/// Diurnal traffic shape: lowest at 03:00 UTC, highest at 15:00 UTC.
fn diurnal(t: i64) -> f64 {
    let h = (t.rem_euclid(24 * HOUR)) as f64 / HOUR as f64;
    0.35 + 0.65 * (0.5 - 0.5 * ((h - 3.0) / 24.0 * std::f64::consts::TAU).cos())
}

impl Background {
    pub fn new(opts: &Options, clients: &mut Vec<Client>, natural: Format) -> Background {
        let mut r = rng_for(opts.seed, 8);
        let formats = &opts.formats;
        let first = clients.len() as u32;
        let mut v4 = HashSet::new();
        let mut v6 = HashSet::new();
        let total_w: u32 = COUNTRIES.iter().map(|c| c.1).sum();
        for _ in 0..opts.users {
            let ip: IpAddr = if r.gen_bool(0.15) {
                const PREFIXES: [u16; 3] = [0x2400, 0x2600, 0x2a00];
                loop {
                    let hi = PREFIXES[r.gen_range(0..3)] | r.gen_range(0..16);
                    let net: u64 = (hi as u64) << 48 | r.gen_range(0..1u64 << 48);
                    if v6.insert(net) {
                        let iid: u64 = r.gen();
                        break Ipv6Addr::from(((net as u128) << 64) | iid as u128).into();
                    }
                }
            } else {
                loop {
                    let a: u32 = r.gen();
                    if !v4_reserved(a) && v4.insert(a) {
                        break Ipv4Addr::from(a).into();
                    }
                }
            };
            let mut w = r.gen_range(0..total_w);
            let (country, _, edge) = *COUNTRIES
                .iter()
                .find(|c| {
                    if w < c.1 {
                        true
                    } else {
                        w -= c.1;
                        false
                    }
                })
                .unwrap_or(&COUNTRIES[0]);
            let ua = match r.gen_range(0..100) {
                0..=2 => 7 + r.gen_range(0..2),
                3 => catalog::UA_OKHTTP,
                4 => catalog::UA_GO,
                _ => r.gen_range(0..BROWSERS),
            };
            let format = match formats.len() {
                1 => formats[0],
                _ => {
                    let x = r.gen_range(0..100);
                    let f = if x < 40 {
                        Format::Waf
                    } else if x < 75 {
                        Format::Cloudfront
                    } else {
                        Format::Alb
                    };
                    if f == Format::Cloudfront {
                        // CloudFront's share goes to its outputs present, client by client
                        // (by index, not by the RNG, so corpora without v2 stay identical).
                        let family: Vec<Format> = formats
                            .iter()
                            .copied()
                            .filter(|f| f.is_cloudfront())
                            .collect();
                        match family.len() {
                            0 => natural,
                            n => family[clients.len() % n],
                        }
                    } else if formats.contains(&f) {
                        f
                    } else {
                        natural
                    }
                }
            };
            let format = if formats.contains(&format) {
                format
            } else {
                formats[0]
            };
            let xff = r.gen_bool(0.05).then(|| {
                let a = loop {
                    let a: u32 = r.gen();
                    if !v4_reserved(a) {
                        break a;
                    }
                };
                Ipv4Addr::from(a).to_string()
            });
            let mut c = Client::new(ip, format, Actor::Background, ua, country, edge);
            c.xff = xff;
            clients.push(c);
        }
        let per_ms = opts.users as f64 * SESSIONS_PER_USER_HOUR / HOUR as f64;
        Background {
            first,
            n: opts.users,
            busy_until: vec![i64::MIN; opts.users as usize],
            rng: rng_for(opts.seed, 9),
            next_session: opts.start_ms,
            per_ms,
            pending: VecDeque::new(),
            base_min: opts.start_ms.div_euclid(MINUTE),
            spare: Vec::new(),
            session: Vec::new(),
        }
    }

    pub fn fill(&mut self, from: i64, to: i64, clients: &[Client], out: &mut Vec<Event>) {
        while self.next_session < to {
            let t = self.next_session;
            self.next_session += exp_ms(&mut self.rng, 1.0 / (self.per_ms * diurnal(t)));
            if t < from {
                continue;
            }
            let u = self.rng.gen_range(0..self.n);
            if self.busy_until[u as usize] > t {
                continue;
            }
            let ci = self.first + u;
            self.make_session(t, ci, &clients[ci as usize]);
            let last = self.session.iter().map(|e| e.t).max().unwrap_or(t);
            self.busy_until[u as usize] = last + SESSION_GAP_MS;
            for i in 0..self.session.len() {
                let e = self.session[i];
                let k = (e.t.div_euclid(MINUTE) - self.base_min) as usize;
                while self.pending.len() <= k {
                    let v = self.spare.pop().unwrap_or_default();
                    self.pending.push_back(v);
                }
                self.pending[k].push(e);
            }
        }
        let minute = from.div_euclid(MINUTE);
        while self.base_min < minute {
            if let Some(mut v) = self.pending.pop_front() {
                v.clear();
                self.spare.push(v);
            }
            self.base_min += 1;
        }
        if let Some(bucket) = self.pending.front() {
            out.extend(bucket.iter().filter(|e| e.t >= from && e.t < to));
        }
    }

    fn make_session(&mut self, start: i64, ci: u32, c: &Client) {
        let r = &mut self.rng;
        let s = &mut self.session;
        s.clear();
        let kind = catalog::UAS[c.ua as usize].1;
        let human = kind == catalog::UaKind::Browser;
        let mut pages = 1;
        while pages < 12 && r.gen_bool(if human { 0.72 } else { 0.8 }) {
            pages += 1;
        }
        let login_at = (human && r.gen_bool(0.04)).then(|| r.gen_range(0..pages));
        let mut n4xx = 0;
        let mut t = start;
        let mut prev: u16 = 0;
        for p in 0..pages {
            let page = if p == 0 && r.gen_bool(0.4) {
                0
            } else {
                pick(r, PAGES)
            };
            let mut e = event(t, ci, c, page, Method::Get, 200, c.ua);
            e.referer = prev;
            e.query = if r.gen_bool(0.15) {
                pick(r, 1..QUERIES.len() as u16)
            } else {
                0
            };
            if n4xx < MAX_SESSION_4XX && r.gen_bool(0.02) {
                e.status = 404;
                e.query = 7;
                n4xx += 1;
            } else if n4xx < MAX_SESSION_4XX && r.gen_bool(0.003) {
                e.status = 403;
                e.flags = FLAG_BLOCKED;
                n4xx += 1;
            }
            s.push(e);
            if human {
                let assets = if p == 0 {
                    r.gen_range(4..=8)
                } else {
                    r.gen_range(0..=3)
                };
                for _ in 0..assets {
                    let mut a = event(
                        t + r.gen_range(40..1500),
                        ci,
                        c,
                        pick(r, ASSETS),
                        Method::Get,
                        200,
                        c.ua,
                    );
                    a.referer = page + 1;
                    if r.gen_bool(0.2) {
                        a.status = 304;
                    } else if n4xx < MAX_SESSION_4XX && r.gen_bool(0.004) {
                        a.status = 404;
                        n4xx += 1;
                    }
                    s.push(a);
                }
                for _ in 0..r.gen_range(0..=2) {
                    let m = if r.gen_bool(0.1) {
                        Method::Post
                    } else {
                        Method::Get
                    };
                    let mut a = event(
                        t + r.gen_range(300..4000),
                        ci,
                        c,
                        pick(r, API),
                        m,
                        200,
                        c.ua,
                    );
                    a.referer = page + 1;
                    s.push(a);
                }
            }
            if login_at == Some(p) {
                let ok = n4xx >= MAX_SESSION_4XX || r.gen_bool(0.75);
                let mut l = event(
                    t + r.gen_range(5000..20000),
                    ci,
                    c,
                    LOGIN,
                    Method::Post,
                    if ok { 200 } else { 401 },
                    c.ua,
                );
                l.referer = LOGIN + 1;
                n4xx += u32::from(!ok);
                s.push(l);
            }
            prev = page + 1;
            t += if human {
                8000 + exp_ms(r, 22_000.0).min(80_000)
            } else {
                r.gen_range(3000..20_000)
            };
        }
        if c.format.is_cloudfront() {
            for e in s.iter_mut() {
                if e.status == 200 && r.gen_bool(0.003) {
                    e.status = 0;
                }
            }
        }
        debug_assert!(s.len() <= MAX_SESSION_REQUESTS);
        s.truncate(MAX_SESSION_REQUESTS);
    }
}
