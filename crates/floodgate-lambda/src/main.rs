//! `bootstrap`: the floodgate Lambda (provided.al2023). See docs/operations.md.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    floodgate_lambda::init_logging();
    let app = match floodgate_lambda::init().await {
        Ok(app) => Arc::new(app),
        Err(e) => {
            // Printed once, plainly: the init error is what an operator reads in the logs.
            tracing::error!(error = %e, message = "floodgate: cold start failed");
            return Err(e.into());
        }
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let id = event.context.request_id.clone();
            let deadline = i64::try_from(event.context.deadline).ok();
            app.handle_until(event.payload, &id, deadline).await
        }
    }))
    .await
}
