//! The WAF IP set sink: the sets of each IP version equal the state's blocklist.

use super::{BoxFuture, DecisionSink, Delivery, Outcome};
use crate::ipsets::{sync_ip_sets, IpSetApi, SyncOptions, SyncTarget};
use crate::state_store::StateBackend;

/// Keeps `targets` equal to the committed blocklist (see [`crate::ipsets`]). A failed set is
/// synced again on the next run: the sets follow the state, not the last delivery.
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
            let sync = sync_ip_sets(&self.waf, &self.backend, o.state, &self.targets, &opts).await;
            Delivery {
                sync: Some(sync),
                ..Delivery::done("ip-sets")
            }
        })
    }
}
