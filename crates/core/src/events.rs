//! Reading the outbox in commit order. On PostgreSQL a sequence number is taken before its
//! transaction commits, so a reader can see seq 12 before seq 11 exists. A reader therefore only
//! moves its cursor over a contiguous run, and jumps a gap only once it is old enough that the
//! missing number must belong to a transaction that rolled back.

/// How long a hole in the sequence is waited for before it is taken to be a rollback.
pub const GAP_GRACE_MS: i64 = 10_000;

/// Given the cursor, the (seq, committed-at ms) pairs read after it in ascending order, and now,
/// returns how many of them may be delivered (a prefix) and the new cursor.
pub fn advance(cursor: i64, read: &[(i64, i64)], now_ms: i64) -> (usize, i64) {
    let mut cur = cursor;
    let mut n = 0;
    for &(seq, at) in read {
        if seq != cur + 1 && now_ms - at < GAP_GRACE_MS {
            break;
        }
        cur = seq;
        n += 1;
    }
    (n, cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_runs_advance() {
        assert_eq!(advance(10, &[(11, 0), (12, 0)], 1), (2, 12));
    }

    #[test]
    fn a_fresh_gap_stops_the_reader() {
        assert_eq!(advance(10, &[(11, 100), (13, 100)], 200), (1, 11));
    }

    #[test]
    fn an_old_gap_is_a_rollback_and_is_jumped() {
        assert_eq!(advance(10, &[(12, 0), (13, 0)], GAP_GRACE_MS + 1), (2, 13));
    }
}
