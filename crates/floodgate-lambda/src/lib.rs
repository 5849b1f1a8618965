//! floodgate-lambda: the `bootstrap` binary's logic, as a library so tests call the handler
//! directly (not through the Lambda runtime).
//!
//! * [`settings`]: the environment contract with infra, validated at cold start, and
//!   [`sources`]: which log sources it lets the function read (refusals fail closed);
//! * [`events`]: S3, EventBridge, SQS, CloudWatch Logs, Kinesis and scheduled events,
//!   recognised by shape;
//! * [`handler`]: event → floodgate-aws pipeline → state → the sinks (IP sets, reports,
//!   notification, metrics);
//! * [`streams`]: streamed records as batches, counted exactly once.

mod delivery;
pub mod events;
pub mod handler;
pub mod recorded;
pub mod settings;
pub mod sources;
pub mod streams;

pub use handler::{App, Clock, HandlerError};
pub use settings::{Allowed, ConfigSource, Settings, SettingsError};

/// Cold start: settings from the environment, SDK clients, configuration. Any error here is
/// a deployment problem and is reported as one message.
pub async fn init() -> Result<App<floodgate_aws::S3Store, floodgate_aws::WafIpSets>, String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    for name in settings.unset_sources() {
        tracing::warn!(
            variable = name,
            message = "source allowlist not set: every event of its kind is refused \
                       (set it to the sources to read, or `*` for any)"
        );
    }
    init_with(settings).await
}

/// Cold start with explicit settings (tests): SDK clients from the environment
/// (`AWS_ENDPOINT_URL` honoured), configuration loaded and validated.
pub async fn init_with(
    settings: Settings,
) -> Result<App<floodgate_aws::S3Store, floodgate_aws::WafIpSets>, String> {
    let sdk = floodgate_aws::sdk_config().await;
    let store = floodgate_aws::S3Store::new(&sdk);
    let waf = floodgate_aws::WafIpSets::new(&sdk, settings.scope);
    let (mut config, recorded) = settings.load_config_recorded(&store).await?;
    settings.check_against(&config).map_err(|e| e.to_string())?;
    // Capacity follows the IP sets given where the configuration sets none.
    config.ban.ip_sets = Some((settings.ipv4_sets.len(), settings.ipv6_sets.len()));
    let notifier = settings.notify_topic_arn.clone().map(|arn| {
        std::sync::Arc::new(floodgate_aws::sns::SnsPublisher::new(&sdk, arn))
            as std::sync::Arc<dyn floodgate_aws::sns::Publisher>
    });
    let app = App::new(settings, config, store, waf).with_recorded(recorded);
    Ok(match notifier {
        Some(n) => app.with_notifier(n),
        None => app,
    })
}

/// Logging: one JSON line per event on stderr (EMF metrics keep stdout to themselves), at the
/// level of `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls) or `RUST_LOG`
/// (default `info`; directives like `floodgate_lambda=debug` work too).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    let filter = EnvFilter::builder()
        .with_default_directive(tracing::level_filters::LevelFilter::INFO.into())
        .parse_lossy(level.to_ascii_lowercase());
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
