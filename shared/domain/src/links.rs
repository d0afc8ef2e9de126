//! One-time signed links, so that an officer can answer an offer or leave a waiting list from
//! the email itself, without signing in.
//!
//! A token is `<payload>.<signature>`: the payload is the JSON of [`LinkClaims`] in URL-safe
//! base64 without padding, and the signature an HMAC-SHA256 of the payload under the link
//! secret, in the same encoding. The token only proves that Cassiopée wrote it and that it has
//! not expired; single use is the endpoint's business: it records each claim's `nonce` once
//! used and refuses it the second time.
//!
//! Implementation notes: the signature is checked with `hmac`'s `verify_slice`, which compares
//! in constant time; the payload is decoded as JSON only once the signature holds, so that
//! nothing an outsider typed reaches the JSON parser.

use crate::ids::{OfficerId, SessionId};
use crate::time::Instant;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The shortest secret accepted, in bytes: as long as the SHA-256 output, as RFC 2104 advises.
pub const MIN_SECRET_LEN: usize = 32;

/// Prepended to every payload before signing, so that a signature made with the same secret
/// for another purpose can never pass for a link's.
const CONTEXT: &[u8] = b"cassiopee-link-v1.";

/// What a link lets its bearer do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkAction {
    AcceptOffer,
    DeclineOffer,
    LeaveWaitlist,
}

impl LinkAction {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkAction::AcceptOffer => "accept_offer",
            LinkAction::DeclineOffer => "decline_offer",
            LinkAction::LeaveWaitlist => "leave_waitlist",
        }
    }
}

/// What a link's token says: who may do what, on which session, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    // One-letter names in the JSON keep the links short enough for any mail client.
    #[serde(rename = "a")]
    pub action: LinkAction,
    #[serde(rename = "s")]
    pub session_id: SessionId,
    #[serde(rename = "o")]
    pub officer_id: OfficerId,
    /// The offer's expiry for offer actions; the session's start for leaving the waiting list.
    #[serde(rename = "e", with = "chrono::serde::ts_seconds")]
    pub expires_at: Instant,
    /// A ULID, unique per link: the endpoint records it once used.
    #[serde(rename = "n")]
    pub nonce: String,
}

impl LinkClaims {
    /// Claims with a fresh nonce.
    pub fn new(
        action: LinkAction,
        session_id: SessionId,
        officer_id: OfficerId,
        expires_at: Instant,
    ) -> Self {
        Self {
            action,
            session_id,
            officer_id,
            expires_at,
            nonce: ulid::Ulid::generate().to_string(),
        }
    }
}

/// Why a token was refused. Each cause is its own variant, so that the endpoint can tell an
/// officer whose link has expired from a link that was altered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link is malformed")]
    Malformed,
    #[error("the link's signature does not match")]
    BadSignature,
    #[error("the link has expired")]
    Expired,
}

fn mac(secret: &[u8], payload: &str) -> HmacSha256 {
    // HMAC takes a key of any length, so this never fails; the length is checked at start-up.
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(CONTEXT);
    mac.update(payload.as_bytes());
    mac
}

/// Signs claims into a token safe in a URL path segment.
pub fn sign(secret: &[u8], claims: &LinkClaims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &payload).finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// Checks a token's signature, then its expiry, and answers its claims.
pub fn verify(secret: &[u8], token: &str, now: Instant) -> Result<LinkClaims, LinkError> {
    let (payload, signature) = token.split_once('.').ok_or(LinkError::Malformed)?;
    if payload.is_empty() || token.len() > 2048 {
        return Err(LinkError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LinkError::Malformed)?;
    if signature.len() != 32 {
        return Err(LinkError::Malformed);
    }
    mac(secret, payload)
        .verify_slice(&signature)
        .map_err(|_| LinkError::BadSignature)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| LinkError::Malformed)?;
    let claims: LinkClaims = serde_json::from_slice(&json).map_err(|_| LinkError::Malformed)?;
    if now >= claims.expires_at {
        return Err(LinkError::Expired);
    }
    Ok(claims)
}

/// The address of a link: `{public_url}/liens/{token}`.
pub fn link_url(public_url: &str, token: &str) -> String {
    format!("{}/liens/{token}", public_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims() -> LinkClaims {
        LinkClaims::new(
            LinkAction::AcceptOffer,
            SessionId::generate(),
            OfficerId::generate(),
            parse_instant("2026-06-03T18:00").expect("instant"),
        )
    }

    fn before() -> Instant {
        parse_instant("2026-06-01T09:00").expect("instant")
    }

    #[test]
    fn a_signed_link_verifies_back_to_its_claims() {
        let c = claims();
        let token = sign(SECRET, &c);
        assert!(
            token
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        );
        assert_eq!(verify(SECRET, &token, before()), Ok(c));
    }

    #[test]
    fn two_links_for_the_same_offer_have_different_nonces() {
        assert_ne!(claims().nonce, claims().nonce);
    }

    #[test]
    fn a_tampered_payload_is_refused_as_a_bad_signature() {
        let token = sign(SECRET, &claims());
        let (payload, signature) = token.split_once('.').expect("two parts");
        let mut forged: LinkClaims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json");
        forged.action = LinkAction::DeclineOffer;
        let forged = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).expect("json"))
        );
        assert_eq!(
            verify(SECRET, &forged, before()),
            Err(LinkError::BadSignature)
        );
        // One character of the signature changed.
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert!(matches!(
            verify(SECRET, &flipped, before()),
            Err(LinkError::BadSignature | LinkError::Malformed)
        ));
    }

    #[test]
    fn a_link_signed_with_another_secret_is_refused() {
        let token = sign(b"another secret, also 32 bytes long!", &claims());
        assert_eq!(
            verify(SECRET, &token, before()),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn an_expired_link_is_refused_as_expired() {
        let c = claims();
        let token = sign(SECRET, &c);
        assert_eq!(
            verify(SECRET, &token, c.expires_at),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn junk_is_refused_as_malformed() {
        for junk in ["", "abc", ".", "abc.", "a.b.c", "é.é", "AAAA.!!!!"] {
            assert_eq!(
                verify(SECRET, junk, before()),
                Err(LinkError::Malformed),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn link_urls_join_the_public_address_and_the_token() {
        assert_eq!(
            link_url("https://cassiopee.example/", "t.s"),
            "https://cassiopee.example/liens/t.s"
        );
    }
}
