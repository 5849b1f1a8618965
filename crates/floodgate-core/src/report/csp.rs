//! Content-Security-Policy hashes for the inline style and script of `report.html`.
//!
//! Escaping keeps log data out of markup; the policy is the second wall: the page may load
//! nothing from anywhere and may run only the one script whose SHA-256 it lists, so even a
//! hypothetical escaping bug could not run injected code or leak data over the network.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A CSP source expression for an inline element's exact text: `'sha256-…'`.
pub fn hash_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            hash_source(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
        assert_eq!(
            hash_source("abc"),
            "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='"
        );
    }
}
