//! floodgate-aws: the adapters between floodgate-core and AWS. Adapters never decide.
//!
//! * [`read`]: S3 objects → per-object tallies, streamed through the core's decoder
//!   ([`read::read_objects`], [`read::list_objects`]);
//! * [`state_store`]: the state object with conditional writes and re-apply on conflict
//!   ([`state_store::commit_run`], [`state_store::commit_expiry`], [`state_store::update`]);
//! * [`partials`]: ingesting invocations write their counts as immutable partials, one
//!   reducer merges them into the state ([`partials::Partials`]);
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
pub mod partials;
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

/// How long [`check_access`] waits for the credential chain (the instance metadata endpoint
/// is its last and slowest link: off AWS it times out and retries).
pub const CREDENTIALS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Fail fast, before any AWS call, when the SDK configuration has no region (where `region`
/// is needed) or its credential chain finds no credentials within [`CREDENTIALS_TIMEOUT`]:
/// one sentence saying what is missing and how to provide it. Without this check each call
/// spends its retries resolving credentials and fails with the SDK's dispatch error.
pub async fn check_access(sdk: &aws_config::SdkConfig, needs_region: bool) -> Result<(), String> {
    use aws_sdk_s3::config::ProvideCredentials;
    if needs_region && sdk.region().is_none() {
        return Err("no AWS region found: give --region, or set AWS_REGION (or a region in ~/.aws/config for AWS_PROFILE)".to_string());
    }
    let Some(provider) = sdk.credentials_provider() else {
        return Err(no_credentials("no credential provider is configured"));
    };
    match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
        Ok(Ok(_)) => Ok(()),
        // The SDK's error is the last provider's, with its debug dump: not what a person needs.
        Ok(Err(_)) => Err(no_credentials("none of them had any")),
        Err(_) => Err(no_credentials(&format!(
            "none answered within {} s",
            CREDENTIALS_TIMEOUT.as_secs()
        ))),
    }
}

fn no_credentials(why: &str) -> String {
    format!(
        "no AWS credentials found (looked in the environment, ~/.aws (AWS_PROFILE), SSO, web identity, container and instance metadata: {why}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`; `sync --dry-run` reads the IP sets and needs them too, while analyze, report and explain of local files need none"
    )
}
