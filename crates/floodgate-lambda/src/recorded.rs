//! The configuration the Lambda decides with, as the state records it (extension `config`, a
//! [`ConfigSource`] as the CLI records its `--config`): `floodgate report`, `explain`, `bans`
//! and `sync` of the Lambda's state then decide with it instead of the built-in configuration.
//!
//! The Lambda's configuration is `FLOODGATE_CONFIG_TOML` or the object `FLOODGATE_CONFIG_S3`
//! plus the environment's replacements (`FLOODGATE_ALLOW_FILES`, `FLOODGATE_WEB_ACL_ARNS`,
//! `FLOODGATE_REALTIME_FIELDS`). A [`ConfigSource`] is a text and the allowlist files it names,
//! so the replacements are written into the text (`[allow] files`, `[source] web_acls`,
//! `[source] realtime_fields`) and every allowlist file read is recorded by the name the text
//! gives it: compiling the record gives the configuration the Lambda decided with.

use floodgate_core::config::ConfigSource;
use std::collections::BTreeMap;

/// The record of a configuration `text` with the allowlist `files` it named (name, text), the
/// `FLOODGATE_ALLOW_FILES` read (`s3://` URL, text) and the `[source]` replacements.
pub fn record(
    text: &str,
    files: Vec<(String, String)>,
    env_files: Vec<(String, String)>,
    web_acls: Option<&[String]>,
    realtime_fields: Option<&[String]>,
) -> Result<ConfigSource, String> {
    let mut files: BTreeMap<String, String> = files.into_iter().collect();
    if env_files.is_empty() && web_acls.is_none() && realtime_fields.is_none() {
        return Ok(ConfigSource {
            text: text.to_string(),
            files,
        });
    }
    let invalid = |e: &dyn std::fmt::Display| format!("floodgate configuration: {e}");
    let mut table: toml::Table = text.parse().map_err(|e| invalid(&e))?;
    fn section<'t>(table: &'t mut toml::Table, name: &str) -> Result<&'t mut toml::Table, String> {
        table
            .entry(name)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("floodgate configuration: [{name}] is not a table"))
    }
    let list = |v: &[String]| toml::Value::Array(v.iter().map(|s| s.clone().into()).collect());
    if !env_files.is_empty() {
        let names = section(&mut table, "allow")?
            .entry("files")
            .or_insert_with(|| toml::Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or("floodgate configuration: allow.files is not a list")?;
        for (url, body) in env_files {
            names.push(url.clone().into());
            files.insert(url, body);
        }
    }
    if let Some(acls) = web_acls {
        section(&mut table, "source")?.insert("web_acls".into(), list(acls));
    }
    if let Some(fields) = realtime_fields {
        section(&mut table, "source")?.insert("realtime_fields".into(), list(fields));
    }
    let body = toml::to_string(&table).map_err(|e| invalid(&e))?;
    Ok(ConfigSource {
        text: format!(
            "# The Lambda's configuration with the FLOODGATE_* environment replacements written in.\n{body}"
        ),
        files,
    })
}
