//! The generation loop: time slices → events → ground truth → files → manifest.

use crate::catalog::Catalog;
use crate::catalog::{RES, TLS, UAS};
use crate::manifest::{ClientEntry, FleetEntry, Manifest, ScenarioEntry, Totals};
use crate::model::{Actor, Event};
use crate::scenarios::{rng_for, World};
use crate::time::{rfc3339, MINUTE};
use crate::truth::{allowlisted, ban_key, KeyTruth};
use crate::writer::FormatOut;
use crate::{Format, Options};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

/// How far (ms) records may be shuffled around their true time inside a file.
const JITTER_MS: i64 = 3000;

/// Generates the logs described by `opts` under `out` and writes `out/manifest.json`.
///
/// Memory stays bounded: events are produced and written one minute of event time at a time.
pub fn generate(opts: &Options, out: &Path) -> io::Result<Manifest> {
    let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
    if opts.formats.is_empty() {
        return Err(invalid("at least one format is required"));
    }
    if opts.duration_ms <= 0 {
        return Err(invalid("duration must be positive"));
    }
    std::fs::create_dir_all(out)?;
    let cat = Catalog::new();
    let mut world = World::new(opts);
    let mut outs: Vec<FormatOut> = Format::ALL
        .iter()
        .enumerate()
        .map(|(i, &f)| {
            FormatOut::new(
                f,
                out,
                opts.compression,
                opts.start_ms,
                opts.bad_lines,
                rng_for(opts.seed, 20 + i as u64),
            )
        })
        .collect();
    let mut order_rng = rng_for(opts.seed, 30);

    // Ground truth for every non-background ban key.
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    let mut truths: Vec<KeyTruth> = Vec::new();
    let slot: Vec<Option<usize>> = world
        .clients
        .iter()
        .map(|c| {
            (c.actor != Actor::Background).then(|| {
                let n = keys.len();
                let i = *keys.entry(ban_key(c.ip)).or_insert(n);
                if i == truths.len() {
                    truths.push(KeyTruth::default());
                }
                i
            })
        })
        .collect();

    let rules = crate::truth::rules(opts.flood_limit);
    let min_end = opts.start_ms + opts.duration_ms;
    let mut events: Vec<Event> = Vec::new();
    let mut fleet = FleetTally::default();
    let mut t = opts.start_ms;
    loop {
        let total: u64 = outs.iter().map(|o| o.bytes).sum();
        let more = t < min_end || opts.size.is_some_and(|s| total < s);
        if !more {
            break;
        }
        let mut end = (t.div_euclid(MINUTE) + 1) * MINUTE;
        if opts.size.is_none() {
            end = end.min(min_end);
        }
        events.clear();
        world.fill(t, end, &mut events);
        events.sort_unstable_by_key(|e| (e.t, e.client, e.res, e.status));
        for e in &events {
            if let Some(i) = slot[e.client as usize] {
                truths[i].add(e, &rules);
            }
            fleet.add(e, world.clients[e.client as usize].actor == Actor::Fleet);
        }
        for e in events.iter_mut() {
            e.order = e.t + order_rng.gen_range(-JITTER_MS..=JITTER_MS);
        }
        events.sort_by_key(|e| e.order);
        for e in &events {
            let c = &mut world.clients[e.client as usize];
            outs[e.format as usize].write(e, c, &cat)?;
        }
        for o in &mut outs {
            o.end_slice()?;
        }
        t = end;
    }
    for o in &mut outs {
        o.close()?;
    }

    let mut manifest = build_manifest(opts, t, &world, &slot, &truths, outs);
    manifest.fleet = fleet.entry(&world);
    manifest.networks = world.networks();
    manifest.networks.sort_by(|a, b| a.cidr.cmp(&b.cidr));
    manifest.files.sort_by(|a, b| a.path.cmp(&b.path));
    let json = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    std::fs::write(out.join("manifest.json"), [json.as_slice(), b"\n"].concat())?;
    Ok(manifest)
}

fn build_manifest(
    opts: &Options,
    end: i64,
    world: &World,
    slot: &[Option<usize>],
    truths: &[KeyTruth],
    outs: Vec<FormatOut>,
) -> Manifest {
    let mut clients = Vec::new();
    let mut scen: BTreeMap<Actor, ScenarioEntry> = BTreeMap::new();
    for (i, c) in world.clients.iter().enumerate() {
        if c.requests == 0 {
            continue;
        }
        let allowed = allowlisted(c.ip);
        let rule = if allowed {
            None
        } else {
            slot[i].and_then(|s| truths[s].first_rule())
        };
        let key = (!allowed).then(|| ban_key(c.ip));
        let s = scen.entry(c.actor).or_insert_with(|| ScenarioEntry {
            name: c.actor.name().to_string(),
            description: c.actor.description().to_string(),
            clients: 0,
            requests: 0,
            expect_ban: false,
            ban_keys: Vec::new(),
        });
        s.clients += 1;
        s.requests += c.requests;
        if let (Some(_), Some(k)) = (rule, &key) {
            s.expect_ban = true;
            if !s.ban_keys.contains(k) {
                s.ban_keys.push(k.clone());
            }
        }
        clients.push(ClientEntry {
            ip: c.ip_str.clone(),
            scenario: c.actor.name().to_string(),
            format: c.format,
            requests: c.requests,
            expect_ban: rule.is_some(),
            ban_key: key,
            rule: rule.map(str::to_string),
        });
    }
    clients.sort_by(|a, b| a.ip.cmp(&b.ip));
    let mut scenarios: Vec<ScenarioEntry> = scen.into_values().collect();
    for s in &mut scenarios {
        s.ban_keys.sort();
    }
    let mut totals = Totals::default();
    let mut files = Vec::new();
    for o in outs {
        for f in o.entries {
            totals.records += f.records;
            *totals.by_format.get_mut(f.format) += f.records;
            files.push(f);
        }
    }
    Manifest {
        generator: format!("floodgate-loggen {}", env!("CARGO_PKG_VERSION")),
        seed: opts.seed,
        scenario: opts.scenario.name().to_string(),
        start: rfc3339(opts.start_ms),
        end: rfc3339(end),
        files,
        clients,
        scenarios,
        networks: Vec::new(),
        fleet: None,
        totals,
    }
}

/// The residential fleet's truth, gathered from the events as they are written.
#[derive(Default)]
struct FleetTally {
    first: Option<i64>,
    last: i64,
    paths: BTreeSet<u16>,
    /// The fleet's requests by (fingerprint, user agent).
    by_kind: BTreeMap<(u8, u16), u64>,
    /// Fingerprints and user agents anyone else sent.
    other_tls: BTreeSet<u8>,
    other_ua: BTreeSet<u16>,
    queries: BTreeSet<u32>,
    repeated_query: bool,
}

impl FleetTally {
    fn add(&mut self, e: &Event, fleet: bool) {
        if !fleet {
            self.other_tls.insert(e.tls);
            self.other_ua.insert(e.ua);
            return;
        }
        self.first = Some(self.first.map_or(e.t, |f| f.min(e.t)));
        self.last = self.last.max(e.t);
        self.paths.insert(e.res);
        *self.by_kind.entry((e.tls, e.ua)).or_default() += 1;
        self.repeated_query |= e.qseed == 0 || !self.queries.insert(e.qseed);
    }

    /// `None` when no fleet request was written.
    fn entry(&self, world: &World) -> Option<FleetEntry> {
        let first = self.first?;
        let clients = world.clients.iter().filter(|c| c.actor == Actor::Fleet);
        let (mut addresses, mut requests, mut max) = (0, 0, 0);
        for c in clients.filter(|c| c.requests > 0) {
            addresses += 1;
            requests += c.requests;
            max = max.max(c.requests);
        }
        let tls_only: BTreeSet<u8> = (self.by_kind.keys().map(|k| k.0))
            .filter(|t| !self.other_tls.contains(t))
            .collect();
        let ua_only: BTreeSet<u16> = (self.by_kind.keys().map(|k| k.1))
            .filter(|u| !self.other_ua.contains(u))
            .collect();
        let total: u64 = self.by_kind.values().sum();
        let ordinary: u64 = (self.by_kind.iter())
            .filter(|((t, u), _)| !tls_only.contains(t) && !ua_only.contains(u))
            .map(|(_, n)| n)
            .sum();
        let sorted = |it: &mut dyn Iterator<Item = &'static str>| {
            let mut v: Vec<String> = it.map(String::from).collect();
            v.sort();
            v
        };
        let path = self.paths.iter().map(|&r| RES[r as usize].path);
        Some(FleetEntry {
            start: rfc3339(first),
            end: rfc3339(self.last),
            path: path.collect::<Vec<_>>().join(" "),
            distinct_queries: !self.repeated_query,
            addresses,
            requests,
            max_requests_per_address: max,
            ja3_only_fleet: sorted(&mut tls_only.iter().map(|&t| TLS[t as usize].ja3)),
            ja4_only_fleet: sorted(&mut tls_only.iter().map(|&t| TLS[t as usize].ja4)),
            user_agents_only_fleet: sorted(&mut ua_only.iter().map(|&u| UAS[u as usize].0)),
            ordinary_share: ordinary as f64 / total.max(1) as f64,
        })
    }
}
