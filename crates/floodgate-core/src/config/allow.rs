//! `[allow]`: networks that are never counted and never banned, written inline (`cidrs`) or
//! in files (`files`: one CIDR or address per line, `#` comments), such as AWS's published
//! CloudFront origin-facing ranges for an ALB behind CloudFront.
//!
//! The core reads no files: the front end hands [`super::Config::from_toml_with`] a loader
//! (the CLI reads paths relative to the configuration file, the Lambda reads `s3://` objects).

use super::error::{err, ConfigError};
use super::raw::RawAllow;
use ipnet::IpNet;

/// Reads an allowlist file named in `allow.files`: its text, or why it could not be read.
pub type FileLoader<'a> = dyn FnMut(&str) -> Result<String, String> + 'a;

fn parse_net(text: &str) -> Option<IpNet> {
    let t = text.trim();
    t.parse::<IpNet>()
        .or_else(|_| t.parse::<std::net::IpAddr>().map(IpNet::from))
        .ok()
        .map(|n| n.trunc())
}

/// The CIDRs of one allowlist file's text; `key` names the file in errors.
pub fn parse_file(key: &str, text: &str) -> Result<Vec<IpNet>, ConfigError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        out.push(parse_net(line).ok_or_else(|| {
            err(
                key,
                format!(
                    "line {}: {line:?} is not a CIDR like \"10.0.0.0/8\" or an address",
                    i + 1
                ),
            )
        })?);
    }
    Ok(out)
}

/// `[allow]`: a key left out takes the built-in value (the private and loopback ranges for
/// `cidrs`), as every other key does; `cidrs = []` written out allows nothing.
pub(super) fn allow(
    user: &RawAllow,
    builtin: &RawAllow,
    load: &mut FileLoader<'_>,
) -> Result<Vec<IpNet>, ConfigError> {
    let cidrs = user.cidrs.as_ref().or(builtin.cidrs.as_ref());
    let files = user.files.as_ref().or(builtin.files.as_ref());
    let mut allow = Vec::new();
    for (i, c) in cidrs.into_iter().flatten().enumerate() {
        allow.push(parse_net(c).ok_or_else(|| {
            err(
                format!("allow.cidrs[{i}]"),
                format!("{c:?} is not a CIDR like \"10.0.0.0/8\" or an address"),
            )
        })?);
    }
    for (i, name) in files.into_iter().flatten().enumerate() {
        let key = format!("allow.files[{i}]");
        let text = load(name).map_err(|e| err(&key, format!("{name}: {e}")))?;
        allow.extend(parse_file(&format!("{key} ({name})"), &text)?);
    }
    Ok(IpNet::aggregate(&allow))
}
