//! Identifiers in OpenAI's shapes: a type prefix and 32 random hex digits.
//!
//! Random rather than sequential so ids leak nothing about volume and can be minted on any node
//! without coordination; ordering comes from the store's own sequence, never from the id.

use rand::RngCore;

fn mint(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

pub fn video_id() -> String {
    mint("video_")
}
pub fn character_id() -> String {
    mint("char_")
}
pub fn file_id() -> String {
    mint("file-")
}
pub fn batch_id() -> String {
    mint("batch_")
}
pub fn event_id() -> String {
    mint("evt_")
}
pub fn lease_id() -> String {
    mint("lease_")
}
pub fn request_id() -> String {
    mint("req_")
}
/// A webhook delivery: its Standard Webhooks `webhook-id`, stable across retries.
pub fn delivery_id() -> String {
    mint("msg_")
}
/// A webhook sender's lease on the deliveries it claimed.
pub fn delivery_lease_id() -> String {
    mint("wdl_")
}

/// True when `id` has `prefix` followed by a non-empty run of id characters; used to turn
/// obviously malformed ids into a 404 without a database round trip.
pub fn looks_like(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 128
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_prefix_and_are_unique() {
        let a = video_id();
        let b = video_id();
        assert!(a.starts_with("video_") && a.len() == 6 + 32);
        assert_ne!(a, b);
        assert!(looks_like(&a, "video_"));
        assert!(!looks_like("video_", "video_"));
        assert!(!looks_like("char_abc", "video_"));
        assert!(!looks_like("video_a/b", "video_"));
    }
}
