//! The WAF IP set sink: the sets of each IP version equal the state's blocklist.

use super::{BoxFuture, DecisionSink, Delivery, Outcome};
use crate::ipsets::{sync_ip_sets, IpSetApi, SyncOptions, SyncTarget};
use crate::state_store::StateBackend;

/// Syncs after the first, when a newer commit's blocklist is found (see [`IpSetSink`]).
pub const MAX_RESYNCS: usize = 3;

/// Keeps `targets` equal to the committed blocklist (see [`crate::ipsets`]). A failed set is
/// synced again on the next run: the sets follow the state, not the last delivery.
///
/// Concurrent invocations commit in one order and may sync in another: an invocation that
/// committed first and synced last would leave its older blocklist in the sets until the next
/// run. So after syncing, the sink reads the state again and, if its blocklist is no longer the
/// one just synced, syncs that one (up to `MAX_RESYNCS` = 3 times). The last invocation to write
/// a set then always re-checks after its write, so the sets end equal to the newest commit.
pub struct IpSetSink<W, B> {
    /// WAF.
    pub waf: W,
    /// Where ownership is recorded.
    pub backend: B,
    /// The sets, IPv4 and IPv6, each version in placement order.
    pub targets: Vec<SyncTarget>,
    /// Retries, pacing, capacity; `dry_run` is taken from the outcome.
    pub options: SyncOptions,
}

impl<W: IpSetApi, B: StateBackend> DecisionSink for IpSetSink<W, B> {
    fn name(&self) -> &'static str {
        "ip-sets"
    }

    fn deliver<'a>(
        &'a self,
        o: &'a Outcome<'a>,
        _earlier: &'a [Delivery],
    ) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let opts = SyncOptions {
                dry_run: o.dry_run,
                ..self.options
            };
            let mut sync =
                sync_ip_sets(&self.waf, &self.backend, o.state, &self.targets, &opts).await;
            let mut synced = (o.state.blocklist.clone(), o.state.manual.stopped.is_some());
            for _ in 0..MAX_RESYNCS {
                if opts.dry_run || sync.failures() > 0 {
                    break; // nothing written on purpose, or the next run retries anyway
                }
                let Ok((current, _)) = self.backend.load().await else {
                    break;
                };
                let now_wanted = (current.blocklist.clone(), current.manual.stopped.is_some());
                if now_wanted == synced {
                    break;
                }
                let again =
                    sync_ip_sets(&self.waf, &self.backend, &current, &self.targets, &opts).await;
                sync = again.after(sync);
                synced = now_wanted;
            }
            Delivery {
                sync: Some(sync),
                ..Delivery::done("ip-sets")
            }
        })
    }
}
