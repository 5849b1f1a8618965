//! `[ban]`, `[ban.ranges]` and `[ban.guardrail]`: how long bans last, what a key is, which
//! networks are banned whole, and what stops a broken rule. Semantics: [`crate::decision`].

use super::error::{err, float_in, int_in, or_default, parse_duration, ConfigError};
use super::raw::{RawBan, RawGuardrail, RawRanges};

/// Entries of one WAF IP set.
pub const IP_SET_CAPACITY: usize = 10_000;

/// Largest `ban.max_entries`: 20 IP sets per IP version. A web ACL holds at most 50 reference
/// statements, so 2 × 20 IP set references leave room for the account's own rule groups and
/// pattern sets, and 40 sets stay well within the 100 IP sets an account has per Region.
pub const MAX_ENTRIES_LIMIT: usize = 20 * IP_SET_CAPACITY;

/// `[ban]`: durations, escalation, keys, capacity and guardrails.
#[derive(Clone, Debug, PartialEq)]
pub struct BanConfig {
    /// First ban, ms.
    pub duration_ms: i64,
    /// Each further offence within `memory_ms` multiplies the duration by this.
    pub escalation: f64,
    /// Cap on one ban's duration, ms.
    pub max_duration_ms: i64,
    /// How long past offences count towards escalation, ms.
    pub memory_ms: i64,
    /// IPv4 key prefix length (32: per address).
    pub ipv4_prefix: u8,
    /// IPv6 key prefix length (64: per subnet, since one host holds a /64).
    pub ipv6_prefix: u8,
    /// Most blocklist entries per IP version, over all the IP sets of that version; `None`:
    /// the capacity follows the IP sets given ([`BanConfig::capacity`]).
    pub max_entries: Option<usize>,
    /// `max_entries` for IPv4 only, where the versions differ.
    pub max_entries_ipv4: Option<usize>,
    /// `max_entries` for IPv6 only.
    pub max_entries_ipv6: Option<usize>,
    /// The IP sets a front end syncs, per version (IPv4, IPv6): set by the Lambda and `sync`
    /// from the sets they were given, `None` for `analyze` (no IP set in sight).
    pub ip_sets: Option<(usize, usize)>,
    /// Absolute cap on new bans per run; 0: none (the share guardrail stops broken rules).
    pub max_new_per_run: usize,
    /// Decide and report only; touch no IP set.
    pub dry_run: bool,
    /// Whole-network bans.
    pub ranges: RangeConfig,
    /// The broken-rule guardrail.
    pub guardrail: GuardrailConfig,
}

/// The capacity per IP version when neither `max_entries` nor IP sets say otherwise (`analyze`
/// over files): three sets' worth, as the stack creates by default.
pub const UNSYNCED_CAPACITY: usize = 3 * IP_SET_CAPACITY;

impl BanConfig {
    /// The capacity the configuration sets for one IP version, if it sets one.
    pub fn max_entries_for(&self, ipv4: bool) -> Option<usize> {
        let own = if ipv4 {
            self.max_entries_ipv4
        } else {
            self.max_entries_ipv6
        };
        own.or(self.max_entries)
    }

    /// Entries one IP version may hold: its `max_entries_ipv4`/`_ipv6`, else `max_entries`,
    /// else 10,000 × the IP sets given for it (one set per version works out of the box), else
    /// (no IP set in sight) [`UNSYNCED_CAPACITY`].
    pub fn capacity(&self, ipv4: bool) -> usize {
        match (self.max_entries_for(ipv4), self.ip_sets) {
            (Some(n), _) => n,
            (None, Some((v4, v6))) => IP_SET_CAPACITY * if ipv4 { v4 } else { v6 }.max(1),
            (None, None) => UNSYNCED_CAPACITY,
        }
    }

    /// IP sets one IP version needs for the capacity its configuration sets (`None`: it sets
    /// none, so any number of sets is enough).
    pub fn ip_sets_needed(&self, ipv4: bool) -> Option<usize> {
        self.max_entries_for(ipv4)
            .map(|n| n.div_ceil(IP_SET_CAPACITY))
    }
}

/// `[ban.ranges]`: when the offenders of one network are many and nearly all its clients,
/// the network is banned as one entry (see [`crate::decision`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RangeConfig {
    /// Off: every offender is its own entry.
    pub enabled: bool,
    /// IPv4 network size considered (a /24 by default).
    pub ipv4_prefix: u8,
    /// IPv6 network size considered (a /48 by default).
    pub ipv6_prefix: u8,
    /// Fewest offending keys in a network for it to be banned whole.
    pub min_offenders: u32,
    /// Smallest share of the network's clients seen that must be offenders.
    pub min_share: f64,
    /// An IPv6 network with this many offending keys is banned whole whatever its share.
    pub ipv6_many_offenders: u32,
}

/// `[ban.guardrail]`: a rule that would ban a large share of every client seen is broken,
/// not under attack; its new bans are held back (see [`crate::decision`]).
#[derive(Clone, Debug, PartialEq)]
pub struct GuardrailConfig {
    /// Largest share of the clients seen one rule may ban.
    pub max_share: f64,
    /// The guardrail applies only once a rule would ban at least this many keys; also the
    /// fewest established networks for the established basis.
    pub min_bans: u32,
    /// How long before a rule's new offences a network must have been first seen to count as
    /// established (the site's audience, not the attack's), ms.
    pub history_ms: i64,
}

fn ranges(user: &RawRanges, d: &RawRanges) -> Result<RangeConfig, ConfigError> {
    let k = |name: &str| format!("ban.ranges.{name}");
    Ok(RangeConfig {
        enabled: or_default(&k("enabled"), &user.enabled, &d.enabled)?,
        ipv4_prefix: int_in(
            &k("ipv4_prefix"),
            or_default(&k("ipv4_prefix"), &user.ipv4_prefix, &d.ipv4_prefix)?,
            8,
            31,
        )? as u8,
        ipv6_prefix: int_in(
            &k("ipv6_prefix"),
            or_default(&k("ipv6_prefix"), &user.ipv6_prefix, &d.ipv6_prefix)?,
            16,
            127,
        )? as u8,
        min_offenders: int_in(
            &k("min_offenders"),
            or_default(&k("min_offenders"), &user.min_offenders, &d.min_offenders)?,
            2,
            1 << 20,
        )? as u32,
        min_share: float_in(
            &k("min_share"),
            or_default(&k("min_share"), &user.min_share, &d.min_share)?,
            0.5,
            1.0,
        )?,
        ipv6_many_offenders: int_in(
            &k("ipv6_many_offenders"),
            or_default(
                &k("ipv6_many_offenders"),
                &user.ipv6_many_offenders,
                &d.ipv6_many_offenders,
            )?,
            16,
            1 << 20,
        )? as u32,
    })
}

fn guardrail(user: &RawGuardrail, d: &RawGuardrail) -> Result<GuardrailConfig, ConfigError> {
    let k = |name: &str| format!("ban.guardrail.{name}");
    let max_share = or_default(&k("max_share"), &user.max_share, &d.max_share)?;
    if !(max_share > 0.0 && max_share <= 1.0) {
        return Err(err(
            k("max_share"),
            format!("{max_share}: allowed above 0 up to 1.0 (1.0 turns the guardrail off)"),
        ));
    }
    Ok(GuardrailConfig {
        max_share,
        min_bans: int_in(
            &k("min_bans"),
            or_default(&k("min_bans"), &user.min_bans, &d.min_bans)?,
            1,
            1 << 30,
        )? as u32,
        history_ms: {
            let ms = parse_duration(
                &k("history"),
                &or_default(&k("history"), &user.history, &d.history)?,
            )?;
            if !(60_000..=7 * 86_400_000).contains(&ms) {
                return Err(err(k("history"), "allowed 1m ..= 7d"));
            }
            ms
        },
    })
}

/// An optional capacity key, 1 ..= [`MAX_ENTRIES_LIMIT`].
fn optional_entries(key: &str, v: Option<i64>) -> Result<Option<usize>, ConfigError> {
    v.map(|n| int_in(key, n, 1, MAX_ENTRIES_LIMIT as i64).map(|n| n as usize))
        .transpose()
}

pub(super) fn ban(b: &RawBan, d: &RawBan) -> Result<BanConfig, ConfigError> {
    let dur = |key: &str, u: &Option<String>, dd: &Option<String>| -> Result<i64, ConfigError> {
        parse_duration(key, &or_default(key, u, dd)?)
    };
    let duration_ms = dur("ban.duration", &b.duration, &d.duration)?;
    let max_duration_ms = dur("ban.max_duration", &b.max_duration, &d.max_duration)?;
    let memory_ms = dur("ban.memory", &b.memory, &d.memory)?;
    if duration_ms < 1000 {
        return Err(err("ban.duration", "at least 1s"));
    }
    if max_duration_ms < duration_ms || max_duration_ms > 365 * 86_400_000 {
        return Err(err(
            "ban.max_duration",
            "at least ban.duration and at most 365d",
        ));
    }
    if memory_ms > 365 * 86_400_000 {
        return Err(err("ban.memory", "at most 365d"));
    }
    let escalation = or_default("ban.escalation", &b.escalation, &d.escalation)?;
    if !(1.0..=100.0).contains(&escalation) {
        return Err(err(
            "ban.escalation",
            format!("{escalation}: allowed 1.0 ..= 100.0 (1.0 turns escalation off)"),
        ));
    }
    let int = |key: &str, u: &Option<i64>, dd: &Option<i64>, lo: i64, hi: i64| {
        int_in(key, or_default(key, u, dd)?, lo, hi)
    };
    Ok(BanConfig {
        duration_ms,
        escalation,
        max_duration_ms,
        memory_ms,
        ipv4_prefix: int("ban.ipv4_prefix", &b.ipv4_prefix, &d.ipv4_prefix, 8, 32)? as u8,
        ipv6_prefix: int("ban.ipv6_prefix", &b.ipv6_prefix, &d.ipv6_prefix, 16, 128)? as u8,
        max_entries: optional_entries("ban.max_entries", b.max_entries.or(d.max_entries))?,
        max_entries_ipv4: optional_entries(
            "ban.max_entries_ipv4",
            b.max_entries_ipv4.or(d.max_entries_ipv4),
        )?,
        max_entries_ipv6: optional_entries(
            "ban.max_entries_ipv6",
            b.max_entries_ipv6.or(d.max_entries_ipv6),
        )?,
        ip_sets: None,
        max_new_per_run: int(
            "ban.max_new_per_run",
            &b.max_new_per_run,
            &d.max_new_per_run,
            0,
            MAX_ENTRIES_LIMIT as i64,
        )? as usize,
        dry_run: or_default("ban.dry_run", &b.dry_run, &d.dry_run)?,
        ranges: ranges(&b.ranges, &d.ranges)?,
        guardrail: guardrail(&b.guardrail, &d.guardrail)?,
    })
}
