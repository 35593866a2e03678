//! Rules of the job queue that need no database: how long to wait before a retry.

/// Delay before attempt `attempt + 1` after `attempt` failures: exponential from 2 s, capped at
/// one hour, so a flapping endpoint is retried for about a day over the default attempts.
pub fn retry_delay_ms(attempts: u32) -> i64 {
    let exp = attempts.saturating_sub(1).min(12);
    (2_000i64 << exp).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps() {
        assert_eq!(retry_delay_ms(1), 2_000);
        assert_eq!(retry_delay_ms(2), 4_000);
        assert_eq!(retry_delay_ms(3), 8_000);
        assert_eq!(retry_delay_ms(40), 3_600_000);
        assert!((1..60).all(|a| retry_delay_ms(a) <= retry_delay_ms(a + 1)));
    }
}
