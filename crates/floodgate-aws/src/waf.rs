//! [`IpSetApi`] over the AWS SDK's WAFv2 client.

use crate::ipsets::{IpSetApi, IpSetRef, IpSetSnapshot, Scope, WafError};
use aws_sdk_wafv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_wafv2::Client;

/// WAFv2 IP sets of one scope. CLOUDFRONT-scope calls go to us-east-1 (the only region that
/// serves them), whatever region the rest of the SDK configuration uses.
///
/// The client makes exactly one attempt per call: floodgate's own loop in
/// [`crate::ipsets`] retries lock conflicts, throttling and transient failures with its
/// backoff, and an SDK retrying underneath would multiply the calls (3 × 6 per write) against
/// an account-wide limit of about one write per second.
#[derive(Clone, Debug)]
pub struct WafIpSets {
    /// The client.
    pub client: Client,
    /// The scope of every call.
    pub scope: Scope,
}

impl WafIpSets {
    /// A client for `scope` over an SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig, scope: Scope) -> WafIpSets {
        let mut conf = aws_sdk_wafv2::config::Builder::from(sdk)
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1));
        if scope == Scope::Cloudfront {
            conf = conf.region(aws_sdk_wafv2::config::Region::new("us-east-1"));
        }
        WafIpSets {
            client: Client::from_conf(conf.build()),
            scope,
        }
    }

    fn sdk_scope(&self) -> aws_sdk_wafv2::types::Scope {
        match self.scope {
            Scope::Regional => aws_sdk_wafv2::types::Scope::Regional,
            Scope::Cloudfront => aws_sdk_wafv2::types::Scope::Cloudfront,
        }
    }
}

fn classify<E>(what: &str, e: SdkError<E, aws_sdk_wafv2::config::http::HttpResponse>) -> WafError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e.code().unwrap_or_default().to_string();
    let text = format!("{what}: {}", DisplayErrorContext(&e));
    let transient = matches!(
        e,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    ) || e
        .raw_response()
        .is_some_and(|r| r.status().as_u16() == 429 || r.status().is_server_error());
    match code.as_str() {
        "WAFOptimisticLockException" => WafError::OptimisticLock(text),
        "WAFLimitsExceededException" | "ThrottlingException" | "TooManyRequestsException" => {
            WafError::Throttled(text)
        }
        // Timeouts, connection failures and 5xx: retried by floodgate's backoff like throttling.
        _ if transient => WafError::Throttled(text),
        _ => WafError::Other(text),
    }
}

impl IpSetApi for WafIpSets {
    async fn get(&self, set: &IpSetRef) -> Result<IpSetSnapshot, WafError> {
        let out = self
            .client
            .get_ip_set()
            .name(&set.name)
            .id(&set.id)
            .scope(self.sdk_scope())
            .send()
            .await
            .map_err(|e| classify(&format!("GetIPSet {}", set.name), e))?;
        let addresses = out
            .ip_set()
            .map(|s| s.addresses().to_vec())
            .unwrap_or_default();
        let description = out
            .ip_set()
            .and_then(|s| s.description())
            .map(str::to_string);
        let lock_token = out
            .lock_token()
            .ok_or_else(|| WafError::Other(format!("GetIPSet {}: no LockToken", set.name)))?
            .to_string();
        Ok(IpSetSnapshot {
            addresses,
            description,
            lock_token,
        })
    }

    async fn update(
        &self,
        set: &IpSetRef,
        addresses: Vec<String>,
        description: Option<&str>,
        lock_token: &str,
    ) -> Result<(), WafError> {
        self.client
            .update_ip_set()
            .name(&set.name)
            .id(&set.id)
            .scope(self.sdk_scope())
            .set_addresses(Some(addresses))
            .set_description(description.map(str::to_string))
            .lock_token(lock_token)
            .send()
            .await
            .map_err(|e| classify(&format!("UpdateIPSet {}", set.name), e))?;
        Ok(())
    }
}
