//! floodgate-lambda: the `bootstrap` binary's logic, as a library so tests call the handler
//! directly (not through the Lambda runtime).
//!
//! * [`settings`]: the environment contract with infra, validated at cold start;
//! * [`events`]: S3 / SQS / scheduled events, recognised by shape;
//! * [`handler`]: event → floodgate-aws pipeline → state, IP sets, reports, metrics.

pub mod events;
pub mod handler;
pub mod settings;

pub use handler::{App, Clock, HandlerError};
pub use settings::{ConfigSource, Settings, SettingsError};

/// Cold start: settings from the environment, SDK clients, configuration. Any error here is
/// a deployment problem and is reported as one message.
pub async fn init() -> Result<App<floodgate_aws::S3Store, floodgate_aws::WafIpSets>, String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
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
    let config = settings.load_config(&store).await?;
    settings.check_against(&config).map_err(|e| e.to_string())?;
    let notifier = settings.notify_topic_arn.clone().map(|arn| {
        std::sync::Arc::new(floodgate_aws::sns::SnsPublisher::new(&sdk, arn))
            as std::sync::Arc<dyn floodgate_aws::sns::Publisher>
    });
    let app = App::new(settings, config, store, waf);
    Ok(match notifier {
        Some(n) => app.with_notifier(n),
        None => app,
    })
}
