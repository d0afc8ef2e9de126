//! The secret of a personal calendar feed: 32 random bytes, written in URL-safe base64 (no
//! padding) and shown to the officer once; the store keeps only its SHA-256, so that a leak of
//! the table gives no working link.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cassiopee_domain::error::{DomainError, Result};
use sha2::{Digest, Sha256};

/// Length of a token as written: 32 bytes in base64 without padding.
pub const TOKEN_LENGTH: usize = 43;

/// A fresh token, from the operating system's random source.
pub fn generate() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| DomainError::internal(format!("random source: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token: its SHA-256, in lowercase hexadecimal.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `raw` has the shape of a token; anything else cannot be one and is not looked up.
pub fn well_formed(raw: &str) -> bool {
    raw.len() == TOKEN_LENGTH
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_never_repeat() {
        let a = generate().expect("token");
        let b = generate().expect("token");
        assert!(well_formed(&a), "{a}");
        assert_ne!(a, b);
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}+", &a[..42])));
    }

    #[test]
    fn the_hash_is_the_hex_sha256_of_the_token() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
