//! Standard Webhooks signing, as the openai SDK's `webhooks.verify_signature` checks it:
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, where the key is
//! the base64-decoded part of a `whsec_` secret (a secret without the prefix is used as raw bytes).
//! During a rotation's grace period the header carries one signature per secret, space-separated;
//! a receiver holding either secret accepts.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    #[error("a webhook secret must be 'whsec_' followed by base64; this one does not decode")]
    BadSecret,
}

/// A fresh secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The HMAC key a secret stands for.
pub fn key_of(secret: &str) -> Result<Vec<u8>, SigningError> {
    match secret.strip_prefix(PREFIX) {
        Some(b64) => STANDARD.decode(b64).map_err(|_| SigningError::BadSecret),
        None => Ok(secret.as_bytes().to_vec()),
    }
}

/// One `v1,<base64>` signature of a message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, SigningError> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SigningError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header value: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[String],
    id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, SigningError> {
    let signatures = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

/// What the API shows instead of a secret: its prefix and last four characters.
pub fn secret_hint(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{PREFIX}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks reference vector (also what openai's `_webhooks.py` computes).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &str = r#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn known_vector() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), EXPECTED);
        assert_ne!(sign(SECRET, ID, TS + 1, BODY).unwrap(), EXPECTED);
        assert_ne!(sign(SECRET, "msg_other", TS, BODY).unwrap(), EXPECTED);
    }

    #[test]
    fn rotation_signs_with_both() {
        let other = new_secret();
        let header = signature_header(&[other.clone(), SECRET.into()], ID, TS, BODY).unwrap();
        let parts: Vec<_> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&other, ID, TS, BODY).unwrap());
        assert_eq!(parts[1], EXPECTED);
    }

    #[test]
    fn secrets_and_hints() {
        let s = new_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(key_of(&s).unwrap().len(), 32);
        assert_ne!(s, new_secret());
        assert_eq!(key_of("plain").unwrap(), b"plain");
        assert_eq!(key_of("whsec_!!!"), Err(SigningError::BadSecret));
        let hint = secret_hint(SECRET);
        assert_eq!(hint, "whsec_****LaSw");
        assert!(!hint.contains("MfKQ"));
    }
}
