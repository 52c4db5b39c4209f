//! Egress policy for URLs users hand us (`image_url` now, webhooks later): no private, loopback,
//! link-local or otherwise internal addresses unless the operator allows them, so the server
//! cannot be turned into a probe of the network it sits in.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::error::{ApiError, ApiResult};

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19)) // benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// Resolves `host:port` and returns the addresses the policy lets us connect to. Connecting to
/// exactly these (not re-resolving) closes the DNS-rebinding gap between check and use.
pub async fn resolve_allowed(
    host: &str,
    port: u16,
    allow_private: bool,
    param: &str,
) -> ApiResult<Vec<SocketAddr>> {
    let lookup = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await
    .map_err(|_| {
        ApiError::invalid(
            param,
            "url_unreachable",
            format!("Resolving '{host}' timed out."),
        )
    })?
    .map_err(|_| {
        ApiError::invalid(
            param,
            "url_unreachable",
            format!("Cannot resolve host '{host}'."),
        )
    })?;
    let addrs: Vec<SocketAddr> = lookup.collect();
    let allowed: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| allow_private || is_public(a.ip()))
        .collect();
    if allowed.is_empty() {
        return Err(ApiError::invalid(
            param,
            "url_not_allowed",
            format!(
                "The URL's host '{host}' resolves to a private or internal address, which this server does not fetch."
            ),
        ));
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
