//! The notification sink: one message per run when bans were added, a guardrail tripped or an
//! earlier sink failed (the text is [`floodgate_core::report::notice`]).

use super::{BoxFuture, DecisionSink, Delivery, Outcome};
use crate::retry::RetryPolicy;
use crate::sns::Publisher;
use crate::state_store::{update, Changed, StateBackend};
use floodgate_core::report::notice::{self, Context, Notice};

/// Undelivered notifications kept in the state (older ones are dropped, and the next message
/// says how many).
pub const MAX_UNDELIVERED: usize = 5;
/// The state's key for this sink's undelivered messages.
const KEY: &str = "notify";

/// Publishes the run's [`Notice`] through `publisher`. A message that cannot be published is
/// kept in the state (`undelivered["notify"]`) and sent with the next one, so an outage of SNS
/// loses no news; at most five are kept (older ones are dropped).
pub struct NotifySink<B> {
    /// Where messages go.
    pub publisher: std::sync::Arc<dyn Publisher>,
    /// Where undelivered messages are kept.
    pub backend: B,
    /// Retries of that record.
    pub state_retry: RetryPolicy,
}

/// The message to send: this run's notice (if any) after the undelivered ones.
fn compose(now: Option<Notice>, undelivered: &[String]) -> Option<Notice> {
    if undelivered.is_empty() {
        return now;
    }
    let mut body = String::new();
    let subject = match &now {
        Some(n) => {
            body.push_str(&n.body);
            n.subject.clone()
        }
        None => "floodgate: notifications that could not be sent earlier".to_string(),
    };
    body.push_str(&format!(
        "\n--- {} earlier notification(s) that could not be sent ---\n",
        undelivered.len()
    ));
    for u in undelivered {
        body.push_str(u);
        body.push('\n');
    }
    Some(Notice {
        subject,
        body: notice::bounded(body),
    })
}

impl<B: StateBackend> DecisionSink for NotifySink<B> {
    fn name(&self) -> &'static str {
        "notify"
    }

    fn deliver<'a>(
        &'a self,
        o: &'a Outcome<'a>,
        earlier: &'a [Delivery],
    ) -> BoxFuture<'a, Delivery> {
        Box::pin(async move {
            let mut d = Delivery::done("notify");
            let failures: Vec<String> = earlier.iter().filter_map(Delivery::failure).collect();
            let reports = earlier.iter().find_map(|e| e.location.as_deref());
            let cx = Context {
                reports,
                failures: &failures,
                dry_run: o.dry_run,
            };
            let now = notice::render(o.config, o.state, o.decision, &cx);
            let undelivered = o.state.undelivered.get(KEY).cloned().unwrap_or_default();
            let Some(message) = compose(now.clone(), &undelivered) else {
                d.skipped = Some("nothing to tell".into());
                return d;
            };
            match self
                .publisher
                .publish(&message.subject, &message.body)
                .await
            {
                Ok(()) => {
                    if !undelivered.is_empty() {
                        let r = update(&self.backend, self.state_retry, |s| {
                            let changed = s.undelivered.remove(KEY).is_some();
                            Ok(Changed { value: (), changed })
                        })
                        .await;
                        if let Err(e) = r {
                            d.error = Some(format!("sent, but clearing the undelivered: {e}"));
                        }
                    }
                }
                Err(e) => {
                    d.error = Some(e);
                    if let Some(n) = now {
                        let text = format!("{}\n{}", n.subject, n.body);
                        let r = update(&self.backend, self.state_retry, |s| {
                            let list = s.undelivered.entry(KEY.to_string()).or_default();
                            list.push(text.clone());
                            let over = list.len().saturating_sub(MAX_UNDELIVERED);
                            list.drain(..over);
                            Ok(Changed::yes(()))
                        })
                        .await;
                        if let Err(e) = r {
                            d.error = Some(format!(
                                "{} (and keeping it for later: {e})",
                                d.error.take().unwrap_or_default()
                            ));
                        }
                    }
                }
            }
            d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undelivered_messages_ride_along_and_stay_bounded() {
        let now = Notice {
            subject: "floodgate: 3 new ban(s)".into(),
            body: "three".into(),
        };
        let m = compose(Some(now.clone()), &["one".into(), "two".into()]).unwrap();
        assert_eq!(m.subject, now.subject);
        assert!(
            m.body.starts_with("three")
                && m.body.contains("2 earlier")
                && m.body.ends_with("two\n")
        );
        let only_old = compose(None, &["x".repeat(40_000)]).unwrap();
        assert!(only_old.body.len() <= notice::MAX_BODY);
        assert!(compose(None, &[]).is_none());
    }
}
