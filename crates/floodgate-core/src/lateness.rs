//! Lateness per log source: which records are late, and where the settled line is.
//!
//! AWS delivers each kind of log on its own schedule: WAF and ALB write a file every 5
//! minutes, streams arrive within seconds, CloudFront standard logs arrive "usually within an
//! hour" and "sometimes delayed by up to 24 hours". Judged against one watermark, the
//! CloudFront logs of 08:00 read after the WAF logs of 10:00 would all be late; judged per
//! source, they are not.
//!
//! # Semantics
//!
//! A record's **source** is the log format it was read in (`waf`, `alb`, `cloudfront`,
//! `cloudfront-json`, `cloudfront-realtime`). The state keeps each source's watermark `M_f`,
//! the newest event time read from it ([`State::sources`]); `M` is the newest of all and `W`
//! the longest rule window. Per source, from its [`Delivery`]:
//!
//! | delivery | hold `h_f` | accept `a_f` |
//! |---|---|---|
//! | minutes (WAF, ALB, streams) | `engine.lateness` | `h_f` |
//! | CloudFront standard (legacy, v2) | `engine.cloudfront_lateness` | `max(h_f, 24 h)` |
//!
//! * A record of source `f` is **late** iff its bucket is older than `M_f − W − a_f`: counted
//!   in the report, not in windows. A source the state has never seen has no line, so none of
//!   its records is late (the distribution whose logs are analyzed after the web ACL's logs of
//!   the same hours).
//! * A source is **live** while `M_f ≥ M − a_f`; a source that stopped delivering stops holding
//!   the line back.
//! * The **settled line** is `S = max(S_prev, min over live f of (M_f − W − h_f))`: every live
//!   source's windows are held for its hold. A state that knows no source (written before they
//!   were recorded, or fed by bare tallies) uses `M − W − engine.lateness`.
//!
//! So a window is exact for every request that arrives within its source's hold, whatever the
//! order of files and runs. A record between its source's hold and accept (a CloudFront file a
//! day late) still counts, in windows made of what is still held: it can miss an offence whose
//! other requests were already dropped, never invent one. A record older than the settled line
//! but not late is merged into its key's windows and swept with the rest; an offence found there
//! is settled at once.
//!
//! [`State::sources`]: crate::state::State::sources
//! [`Delivery`]: crate::formats::Delivery

use crate::config::Config;
use crate::formats::{delivery, Delivery};
use crate::request::Format;
use crate::state::State;

/// How far behind its source's newest record a CloudFront standard log record is still counted:
/// AWS documents that "some or all log file entries for a time period can sometimes be delayed
/// by up to 24 hours".
pub const CLOUDFRONT_MAX_DELAY_MS: i64 = 24 * 3_600_000;

/// How long a source's windows are held (`h_f`, see the module docs).
pub fn hold_ms(config: &Config, format: Format) -> i64 {
    match delivery(format) {
        Delivery::Minutes => config.engine.lateness_ms,
        Delivery::CloudFrontStandard => config.engine.cloudfront_lateness_ms,
    }
}

/// How far behind its source's newest a record still counts (`a_f`, see the module docs).
pub fn accept_ms(config: &Config, format: Format) -> i64 {
    match delivery(format) {
        Delivery::Minutes => config.engine.lateness_ms,
        Delivery::CloudFrontStandard => config
            .engine
            .cloudfront_lateness_ms
            .max(CLOUDFRONT_MAX_DELAY_MS),
    }
}

fn bucket(config: &Config, ms: i64) -> u32 {
    (ms.max(0) / config.engine.resolution_ms).min(i64::from(u32::MAX)) as u32
}

/// The sources a state knows, as formats this build reads (a source named by a later build is
/// ignored: its records cannot be read here anyway).
fn sources(state: &State) -> impl Iterator<Item = (Format, i64)> + '_ {
    state
        .sources
        .iter()
        .filter_map(|(name, m)| Format::from_name(name).map(|f| (f, *m)))
}

/// Per source, the bucket before which its records are late. Built from the state a run
/// starts from and handed to every read of the run ([`crate::pipeline::read_object`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LateLines {
    lines: Vec<(Format, u32)>,
}

impl LateLines {
    /// The lines of `state`'s known sources (none for a new state: nothing is late).
    pub fn of(config: &Config, state: &State) -> LateLines {
        let w = config.max_window_ms();
        LateLines {
            lines: sources(state)
                .map(|(f, m)| (f, bucket(config, m - w - accept_ms(config, f))))
                .collect(),
        }
    }

    /// The bucket before which records of `format` are late (0: none are).
    pub fn line(&self, format: Option<Format>) -> u32 {
        format
            .and_then(|f| self.lines.iter().find(|(g, _)| *g == f))
            .map_or(0, |(_, b)| *b)
    }
}

/// The new settled line of `state` (see the module docs), never before the current one.
pub fn settled_line(config: &Config, state: &State) -> u32 {
    let Some(newest) = state.watermark_ms else {
        return state.settled_bucket;
    };
    let w = config.max_window_ms();
    let live = sources(state)
        .filter(|(f, m)| *m >= newest - accept_ms(config, *f))
        .map(|(f, m)| m - w - hold_ms(config, f))
        .min();
    let line = live.unwrap_or(newest - w - config.engine.lateness_ms);
    bucket(config, line).max(state.settled_bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{alb, cloudfront, waf};

    const H: i64 = 3_600_000;

    fn state(sources: &[(Format, i64)]) -> State {
        let mut s = State {
            resolution_ms: 1000,
            ..State::default()
        };
        for (f, m) in sources {
            s.sources.insert(f.as_str().to_string(), *m);
            s.watermark_ms = Some(s.watermark_ms.unwrap_or(0).max(*m));
        }
        s
    }

    #[test]
    fn cloudfront_an_hour_behind_waf_is_not_late_and_holds_the_line() {
        let config = Config::default();
        let w = config.max_window_ms();
        let t = 1_790_000_000_000;
        let s = state(&[(waf::FORMAT, t), (cloudfront::FORMAT, t - H)]);
        let lines = LateLines::of(&config, &s);
        // WAF: 15 minutes; CloudFront: 24 hours behind its own newest.
        assert_eq!(
            lines.line(Some(waf::FORMAT)),
            ((t - w - 15 * 60_000) / 1000) as u32
        );
        assert_eq!(
            lines.line(Some(cloudfront::FORMAT)),
            ((t - H - w - 24 * H) / 1000) as u32
        );
        // A source never seen: nothing is late.
        assert_eq!(lines.line(Some(alb::FORMAT)), 0);
        assert_eq!(lines.line(None), 0);
        // The windows are held for CloudFront's hour behind its own newest.
        assert_eq!(settled_line(&config, &s), ((t - H - w - H) / 1000) as u32);
    }

    #[test]
    fn a_source_that_stopped_stops_holding_the_line() {
        let config = Config::default();
        let w = config.max_window_ms();
        let t = 1_790_000_000_000;
        // ALB last delivered two hours ago: past its 15 minutes, no longer live.
        let s = state(&[(waf::FORMAT, t), (alb::FORMAT, t - 2 * H)]);
        assert_eq!(
            settled_line(&config, &s),
            ((t - w - 15 * 60_000) / 1000) as u32
        );
        // A state without sources uses the newest of all.
        let mut old = state(&[]);
        old.watermark_ms = Some(t);
        assert_eq!(
            settled_line(&config, &old),
            ((t - w - 15 * 60_000) / 1000) as u32
        );
        // Never moves back.
        old.settled_bucket = u32::MAX - 1;
        assert_eq!(settled_line(&config, &old), u32::MAX - 1);
    }
}
