//! The metrics sink: the run's CloudWatch EMF line (see [`crate::metrics`]).

use super::{BoxFuture, DecisionSink, Delivery, Outcome};
use crate::metrics::Metrics;

/// Prints one EMF line per run with the decision's figures and what the earlier sinks did
/// (writes, conflicts, failures). Printing cannot fail; the line goes to stdout, which Lambda
/// forwards to CloudWatch Logs.
pub struct MetricsSink {
    /// EMF namespace.
    pub namespace: String,
    /// Size of the committed state's encoding (`StateBytes`), when the front end knows it:
    /// the commit measured it, and encoding the state again only to measure it would cost an
    /// attack-sized copy.
    pub state_bytes: Option<u64>,
}

impl MetricsSink {
    /// The metrics of an outcome after the earlier sinks' deliveries.
    pub fn metrics(o: &Outcome<'_>, earlier: &[Delivery]) -> Metrics {
        let mut m = Metrics::default();
        m.add_run(&o.state.last_run);
        m.add_decision(o.decision, o.state.last_run.late);
        m.sync_conflicts += o.state_conflicts as u64;
        for d in earlier {
            if let Some(sync) = &d.sync {
                m.add_sync(sync);
            }
            if d.error.is_some() {
                m.sink_failures += 1;
            }
        }
        m.duration_ms = o.started.elapsed().as_millis() as u64;
        m
    }
}

impl DecisionSink for MetricsSink {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn deliver<'a>(
        &'a self,
        o: &'a Outcome<'a>,
        earlier: &'a [Delivery],
    ) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let mut metrics = MetricsSink::metrics(o, earlier);
            metrics.state_bytes = self.state_bytes;
            metrics.emit(&self.namespace, o.now_ms);
            Delivery::done("metrics")
        })
    }
}
