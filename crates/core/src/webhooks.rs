//! Webhook signatures: `X-MStation-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<body>"`, so a receiver can check both origin and freshness.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub fn signature(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// Receiver-side check, used by our own tests and offered to users in the documentation.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_s: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now - t).abs() > tolerance_s {
        return false;
    }
    let expected = signature(secret, t, body);
    let expected_v1 = expected.rsplit("v1=").next().unwrap_or("");
    // Constant-time comparison of equal-length hex strings.
    expected_v1.len() == v1.len()
        && expected_v1
            .bytes()
            .zip(v1.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let h = signature("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("s3cret", &h, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("s3cret", &h, b"{\"a\":2}", 1_700_000_010, 300));
        assert!(!verify("other", &h, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify("s3cret", &h, b"{\"a\":1}", 1_700_009_999, 300));
        assert!(!verify("s3cret", "garbage", b"", 0, 300));
    }
}
