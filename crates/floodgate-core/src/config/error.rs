//! Configuration errors and the small value parsers every section uses.
//!
//! A leaf module: the sections (and [`crate::rules`]) report problems through [`ConfigError`]
//! without depending on each other.

/// A configuration error: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// Dotted path of the key (`rules[1].window`), or `toml` for syntax errors.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// A [`ConfigError`] for `key`.
pub fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

/// Parse `"90s"`, `"5m"`, `"1h30m"`, `"7d"` (humantime syntax) into ms.
pub fn parse_duration(key: &str, text: &str) -> Result<i64, ConfigError> {
    // humantime reads "5M" as five months and "1y" as a year: a typo for minutes would make a
    // window or a ban last months. floodgate's durations are seconds to days.
    let t = text.trim();
    if t.contains('M') || t.contains('y') || t.contains("mon") {
        return Err(err(
            key,
            format!("{text:?}: months and years are not durations here (\"5M\" would be five months); write s, m, h, d or w, e.g. \"5m\" or \"7d\""),
        ));
    }
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        err(
            key,
            format!("{text:?} is not a duration ({e}); write e.g. \"90s\", \"5m\", \"1h\", \"7d\""),
        )
    })?;
    i64::try_from(d.as_millis()).map_err(|_| err(key, "duration too long"))
}

/// An integer within `lo..=hi`.
pub fn int_in(key: &str, v: i64, lo: i64, hi: i64) -> Result<i64, ConfigError> {
    if v < lo || v > hi {
        return Err(err(
            key,
            format!("{v} is out of range; allowed {lo}..={hi}"),
        ));
    }
    Ok(v)
}

/// A number within `lo..=hi`.
pub fn float_in(key: &str, v: f64, lo: f64, hi: f64) -> Result<f64, ConfigError> {
    if !(lo..=hi).contains(&v) {
        return Err(err(
            key,
            format!("{v} is out of range; allowed {lo} ..= {hi}"),
        ));
    }
    Ok(v)
}

/// The user's value, else the built-in one (`default-config.toml` holds every key; a test
/// checks it, so the error is unreachable in practice rather than a panic).
pub fn or_default<T: Clone>(
    key: &str,
    user: &Option<T>,
    builtin: &Option<T>,
) -> Result<T, ConfigError> {
    user.clone()
        .or_else(|| builtin.clone())
        .ok_or_else(|| err(key, "no value and no built-in default (a bug: report it)"))
}
