//! `bootstrap`: the floodgate Lambda (provided.al2023). See docs/operations.md.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = match floodgate_lambda::init().await {
        Ok(app) => Arc::new(app),
        Err(e) => {
            // Printed once, plainly: the init error is what an operator reads in the logs.
            eprintln!("floodgate: cold start failed: {e}");
            return Err(e.into());
        }
    };
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move {
            let id = event.context.request_id.clone();
            app.handle(event.payload, &id)
                .await
                .map_err(|e| lambda_runtime::Diagnostic::from(Box::new(e) as lambda_runtime::Error))
        }
    }))
    .await
}
