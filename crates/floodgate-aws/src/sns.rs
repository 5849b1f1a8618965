//! Publishing a notification: the [`Publisher`] trait, and SNS behind it.

use crate::sinks::BoxFuture;
use aws_sdk_sns::error::DisplayErrorContext;

/// Where notifications go ([`SnsPublisher`] in production, [`crate::memory::MemoryTopic`] in
/// tests). Object-safe, so a front end can hold "a publisher, if configured".
pub trait Publisher: Send + Sync + 'static {
    /// Publish one message to the topic; `Err` with the reason.
    fn publish<'a>(
        &'a self,
        subject: &'a str,
        message: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// One SNS topic.
#[derive(Clone, Debug)]
pub struct SnsPublisher {
    /// The client.
    pub client: aws_sdk_sns::Client,
    /// The topic ARN (`FLOODGATE_NOTIFY_TOPIC_ARN`, `sync --notify-topic`).
    pub topic_arn: String,
}

impl SnsPublisher {
    /// A publisher to `topic_arn` over an SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig, topic_arn: impl Into<String>) -> SnsPublisher {
        SnsPublisher {
            client: aws_sdk_sns::Client::new(sdk),
            topic_arn: topic_arn.into(),
        }
    }
}

impl Publisher for SnsPublisher {
    fn publish<'a>(
        &'a self,
        subject: &'a str,
        message: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.client
                .publish()
                .topic_arn(&self.topic_arn)
                .subject(subject)
                .message(message)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    format!(
                        "SNS Publish to {}: {}",
                        self.topic_arn,
                        DisplayErrorContext(&e)
                    )
                })
        })
    }
}
