//! The office NAT actor: many people behind one IP, capped below every limit.

use super::{event, exp_ms, pick};
use crate::catalog::{API, ASSETS, BROWSERS, LOGIN, PAGES};
use crate::model::{Client, Event, Method};
use crate::truth::{rule_matches, Rule, Window, RULES};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Many people behind one office NAT: browsing at ~1 req/s, hard-capped at 70% of every limit.
pub struct Nat {
    client: u32,
    next_view: i64,
    rng: ChaCha8Rng,
    windows: [Window; 3],
    caps: [Rule; 3],
    tmp: Vec<Event>,
}

impl Nat {
    pub fn new(client: u32, start: i64, rng: ChaCha8Rng) -> Nat {
        // Windows one second wider than the rule's make the cap hold for any bucket alignment.
        let cap = |r: &Rule| Rule {
            name: r.name,
            window_s: r.window_s + 1,
            limit: r.limit * 7 / 10,
        };
        Nat {
            client,
            next_view: start,
            rng,
            windows: Default::default(),
            caps: RULES.each_ref().map(cap),
            tmp: Vec::new(),
        }
    }

    pub fn fill(&mut self, from: i64, to: i64, clients: &[Client], out: &mut Vec<Event>) {
        let c = &clients[self.client as usize];
        let r = &mut self.rng;
        self.tmp.clear();
        while self.next_view < to {
            let t = self.next_view;
            self.next_view += exp_ms(r, 4200.0);
            let ua = r.gen_range(0..BROWSERS);
            let page = pick(r, PAGES);
            let status = if r.gen_bool(0.02) { 404 } else { 200 };
            let mut e = event(t, self.client, c, page, Method::Get, status, ua);
            e.order = t;
            self.tmp.push(e);
            if r.gen_bool(0.01) {
                let st = if r.gen_bool(0.2) { 401 } else { 200 };
                self.tmp.push(event(
                    t + r.gen_range(2000..9000),
                    self.client,
                    c,
                    LOGIN,
                    Method::Post,
                    st,
                    ua,
                ));
            }
            for _ in 0..r.gen_range(0..7) {
                let a = pick(r, ASSETS);
                self.tmp.push(event(
                    t + r.gen_range(30..1500),
                    self.client,
                    c,
                    a,
                    Method::Get,
                    200,
                    ua,
                ));
            }
            if r.gen_bool(0.3) {
                let a = pick(r, API);
                self.tmp.push(event(
                    t + r.gen_range(500..3000),
                    self.client,
                    c,
                    a,
                    Method::Get,
                    200,
                    ua,
                ));
            }
        }
        self.tmp.retain(|e| e.t >= from && e.t < to);
        self.tmp.sort_by_key(|e| e.t);
        'events: for e in &self.tmp {
            for (i, cap) in self.caps.iter().enumerate() {
                if rule_matches(i, e) && self.windows[i].count_with(e.t, cap.window_s) > cap.limit {
                    continue 'events;
                }
            }
            for (i, cap) in self.caps.iter().enumerate() {
                if rule_matches(i, e) {
                    self.windows[i].add(e.t, cap);
                }
            }
            out.push(*e);
        }
    }
}
