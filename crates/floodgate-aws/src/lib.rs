//! floodgate-aws: the adapters between floodgate-core and AWS. Adapters never decide.
//!
//! * [`read`]: S3 objects → per-object tallies, streamed through the core's decoder
//!   ([`read::read_objects`], [`read::list_objects`]);
//! * [`state_store`]: the state object with conditional writes and re-apply on conflict
//!   ([`state_store::commit_run`], [`state_store::commit_expiry`], [`state_store::update`]);
//! * [`ipsets`]: WAF IP set sync that only touches floodgate's own entries
//!   ([`ipsets::sync_ip_sets`]);
//! * [`sinks`]: where a committed decision goes — the IP sets, the report files, SNS
//!   notifications, EMF metrics ([`metrics`]) — one [`sinks::DecisionSink`] each.
//!
//! AWS clients sit behind small traits, [`objects::ObjectStore`], [`ipsets::IpSetApi`] and
//! [`sns::Publisher`], with SDK implementations ([`s3::S3Store`], [`waf::WafIpSets`],
//! [`sns::SnsPublisher`]) and in-memory fakes ([`memory`]) so the logic is tested without a
//! network. The Lambda and the CLI call the same functions; see docs/operations.md for the
//! behaviour they add up to.

pub mod ipsets;
pub mod memory;
pub mod metrics;
pub mod objects;
pub mod read;
pub mod retry;
pub mod s3;
pub mod sinks;
pub mod sns;
pub mod state_store;
pub mod waf;

pub use ipsets::{
    check_capacity, sync_ip_sets, IpSetRef, IpVersion, Scope, SyncOptions, SyncReport, SyncTarget,
};
pub use objects::{parse_s3_url, ObjectRef, ObjectStore};
pub use read::{list_objects, read_batch, read_objects, Pending, ReadOptions, StreamBatch};
pub use retry::RetryPolicy;
pub use s3::S3Store;
pub use state_store::{commit_expiry, commit_run, S3State, StateBackend};
pub use waf::WafIpSets;

/// The SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_with(None, None).await
}

/// The SDK configuration from the environment, with the CLI's `--region` and `--endpoint-url`
/// taking precedence when given. Retries are explicit: S3 calls use the SDK's standard retry
/// (3 attempts, with backoff) — the state's conflict loop sits above it and retries only 412/409,
/// which the SDK does not; WAF clients turn SDK retries off (see [`waf::WafIpSets`]).
pub async fn sdk_config_with(
    region: Option<String>,
    endpoint_url: Option<String>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
