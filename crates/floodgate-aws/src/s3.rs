//! [`ObjectStore`] over the AWS SDK's S3 client.

use crate::objects::{
    clean_etag, ObjectBody, ObjectRef, ObjectStore, PutCondition, SmallObject, StoreError,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use std::io;
use tokio::sync::mpsc;

/// S3 through the SDK. Clones share the client (and its connection pool).
#[derive(Clone, Debug)]
pub struct S3Store {
    /// The client.
    pub client: Client,
}

impl S3Store {
    /// A store over an SDK configuration. With a custom endpoint (`AWS_ENDPOINT_URL`, a local
    /// test server) addressing is path-style, which such servers need.
    pub fn new(sdk: &aws_config::SdkConfig) -> S3Store {
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        S3Store {
            client: Client::from_conf(conf),
        }
    }
}

fn map_err<E>(what: &str, e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().map(str::to_string);
    let text = format!("{what}: {}", DisplayErrorContext(&e));
    match (status, code.as_deref()) {
        (Some(404), _) | (_, Some("NoSuchKey")) => StoreError::NotFound(text),
        (Some(412), _) | (Some(409), _) => StoreError::Conflict(text),
        (_, Some("PreconditionFailed")) | (_, Some("ConditionalRequestConflict")) => {
            StoreError::Conflict(text)
        }
        _ => StoreError::Other(text),
    }
}

impl ObjectStore for S3Store {
    async fn open(&self, object: &ObjectRef) -> Result<ObjectBody, StoreError> {
        let mut req = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key);
        let version = object
            .version_id
            .as_deref()
            .filter(|v| !v.is_empty() && *v != "null");
        if let Some(v) = version {
            // Needs s3:GetObjectVersion on the object, besides s3:GetObject.
            req = req.version_id(v);
        }
        if let Some(etag) = object.etag.as_deref().filter(|e| !e.is_empty()) {
            req = req.if_match(format!("\"{etag}\""));
        }
        let out = req.send().await.map_err(|e| {
            // 412: the ETag named is not the object's; NoSuchVersion, or a version id S3 cannot
            // even parse (400 InvalidArgument): the version named does not exist.
            let status = e.raw_response().map(|r| r.status().as_u16());
            let mismatch = status == Some(412)
                || matches!(e.code(), Some("PreconditionFailed" | "NoSuchVersion"))
                || (version.is_some() && e.code() == Some("InvalidArgument"));
            let e = map_err(&object.url(), e);
            if mismatch {
                StoreError::Mismatch(e.to_string())
            } else {
                e
            }
        })?;
        let size = out.content_length().and_then(|n| u64::try_from(n).ok());
        let etag = out.e_tag().map(clean_etag);
        let version_id = out.version_id().map(str::to_string);
        let mut body: ByteStream = out.body;
        let (tx, rx) = mpsc::channel(crate::objects::CHANNEL_CHUNKS);
        tokio::spawn(async move {
            loop {
                let item = match body.next().await {
                    None => return,
                    Some(Ok(chunk)) => Ok(chunk),
                    Some(Err(e)) => Err(io::Error::other(e.to_string())),
                };
                let stop = item.is_err();
                // A closed channel means the reader stopped early (size cap): stop reading.
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
        });
        Ok(ObjectBody {
            size,
            etag,
            version_id,
            chunks: rx,
        })
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<SmallObject, StoreError> {
        let what = format!("s3://{bucket}/{key}");
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| map_err(&what, e))?;
        let etag = out.e_tag().map(clean_etag);
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Other(format!("{what}: {e}")))?
            .into_bytes()
            .to_vec();
        Ok(SmallObject { bytes, etag })
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: PutCondition,
    ) -> Result<Option<String>, StoreError> {
        let what = format!("s3://{bucket}/{key}");
        let mut req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        req = match condition {
            PutCondition::None => req,
            PutCondition::IfAbsent => req.if_none_match("*"),
            PutCondition::IfMatch(etag) => req.if_match(format!("\"{etag}\"")),
        };
        let out = req.send().await.map_err(|e| map_err(&what, e))?;
        Ok(out.e_tag().map(clean_etag))
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectRef>, StoreError> {
        let what = format!("s3://{bucket}/{prefix}");
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map_err(&what, e))?;
            for o in page.contents() {
                let Some(key) = o.key() else { continue };
                out.push(ObjectRef {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    version_id: None,
                    etag: o.e_tag().map(clean_etag),
                    size: o.size().and_then(|n| u64::try_from(n).ok()),
                });
            }
        }
        out.sort();
        Ok(out)
    }

    async fn delete(&self, bucket: &str, keys: &[String]) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        // DeleteObjects takes at most 1,000 keys a call.
        for chunk in keys.chunks(1000) {
            let what = format!("s3://{bucket}/ ({} keys)", chunk.len());
            let ids = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::Other(format!("{what}: {e}")))?;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| StoreError::Other(format!("{what}: {e}")))?;
            let out = self
                .client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| map_err(&what, e))?;
            if let Some(e) = out.errors().first() {
                return Err(StoreError::Other(format!(
                    "{what}: {} {}",
                    e.key().unwrap_or_default(),
                    e.message().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}
