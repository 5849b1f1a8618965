//! Paths as the origin sees them, so that spelling a path differently cannot dodge a rule.
//!
//! An attacker who has read a rule's `paths = ["/login"]` can send `/Login`, `//login`,
//! `/login/`, `/login;x`, `/%6Cogin` or `/./login`: a web server or framework routes every one of
//! them to the same handler, and a glob on the path as sent matches none. AWS WAF answers this
//! with the `NORMALIZE_PATH` and `LOWERCASE` text transformations; rule path globs here match
//! the same way.
//!
//! # Semantics of [`normalize`]
//!
//! 1. Percent-encoding is decoded **once** (`%6C` → `l`; `%256C` → `%6C`, as an origin decodes
//!    once); invalid UTF-8 after decoding becomes U+FFFD.
//! 2. The path is split on `/` into segments. In each segment everything from the first `;`
//!    on is dropped (matrix parameters, `;jsessionid=…`).
//! 3. Empty segments (`//`, a trailing `/`) and `.` segments are dropped; `..` drops the
//!    segment before it (at the root it is dropped itself, as an origin clamps at `/`).
//! 4. The result is the remaining segments joined by `/`, with a leading `/` when the input had
//!    one (`/` alone when nothing remains).
//!
//! Case folding (ASCII, like WAF's `LOWERCASE`) is not done here: it is a per-rule choice
//! (`case_sensitive = true` opts out for an application whose routes differ by case), applied
//! by the glob ([`crate::rules::glob_match_folded`]).
//!
//! [`normalize`] is idempotent (a property test checks it) and borrows when the path is
//! already normal, which is the common case on the hot path.

use std::borrow::Cow;

/// The path as the origin routes it (see the module docs).
pub fn normalize(path: &str) -> Cow<'_, str> {
    if is_normal(path) {
        return Cow::Borrowed(path);
    }
    let decoded = if path.contains('%') {
        percent_encoding::percent_decode_str(path).decode_utf8_lossy()
    } else {
        Cow::Borrowed(path)
    };
    Cow::Owned(collapse(&decoded))
}

/// Normalise a rule's glob the way [`normalize`] treats paths, without decoding `%` (a pattern
/// is written by the operator, not the client): `/login/` and `/login` are the same rule.
pub fn normalize_pattern(pattern: &str) -> String {
    if !pattern.starts_with('/') {
        return pattern.to_string();
    }
    collapse(pattern)
}

/// Steps 2–4 of the module docs.
fn collapse(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        let seg = seg.split_once(';').map_or(seg, |(s, _)| s);
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    out
}

/// Nothing to do: no `%`, no `;`, no empty, `.` or `..` segment, no trailing `/`.
fn is_normal(path: &str) -> bool {
    let b = path.as_bytes();
    if b.iter().any(|&c| c == b'%' || c == b';') {
        return false;
    }
    if b.len() > 1 && b[b.len() - 1] == b'/' {
        return false;
    }
    // An empty segment (`//`), or a `.`/`..` segment, shows as a `/` followed by `/`, or by
    // `.` that ends the segment.
    let mut i = 0;
    while i < b.len() {
        let at_start = i == 0 || b[i - 1] == b'/';
        if at_start {
            let rest = &b[i..];
            let seg_len = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
            let seg = &rest[..seg_len];
            if (seg.is_empty() && i > 0) || seg == b"." || seg == b".." {
                return false;
            }
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_spellings_an_attacker_tries_are_one_path() {
        for p in [
            "/login",
            "/login/",
            "//login",
            "/login;x",
            "/login;jsessionid=1/",
            "/%6Cogin",
            "/./login",
            "/a/../login",
            "/../login",
            "///login//",
            "/%2E/login",
        ] {
            assert_eq!(normalize(p), "/login", "{p}");
        }
        assert_eq!(normalize("/Login"), "/Login", "case is the glob's business");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("//"), "/");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("/a;b/c"), "/a/c");
        assert_eq!(normalize("/%256C"), "/%6C", "decoded once");
        assert_eq!(normalize("/.well-known/x"), "/.well-known/x");
        assert_eq!(normalize("/a..b/c."), "/a..b/c.");
    }

    #[test]
    fn normal_paths_are_borrowed() {
        for p in ["/", "/login", "/api/v1/users", "/a..b", "/.env", "*"] {
            assert!(matches!(normalize(p), Cow::Borrowed(_)), "{p}");
        }
    }

    #[test]
    fn patterns_keep_globs_and_percent_signs() {
        assert_eq!(normalize_pattern("/login/"), "/login");
        assert_eq!(normalize_pattern("/api/auth/*"), "/api/auth/*");
        assert_eq!(normalize_pattern("*.php"), "*.php");
        assert_eq!(normalize_pattern("/a%41"), "/a%41");
    }

    proptest! {
        #[test]
        fn normalizing_is_idempotent_and_the_fast_path_agrees(p in "[/a.;%2Ef6C]{0,24}") {
            let once = normalize(&p).into_owned();
            // decoding happens once, so a second pass may decode again: compare the collapse
            let twice = collapse(&once);
            prop_assert_eq!(&twice, &once);
            if is_normal(&p) {
                prop_assert_eq!(collapse(&p), p.clone());
            }
        }
    }
}
