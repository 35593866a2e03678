//! Reading the outbox in commit order. On PostgreSQL a sequence number is taken before its
//! transaction commits, so a reader can see seq 12 before seq 11 exists. A reader therefore only
//! moves its cursor over a contiguous run, and jumps a hole only once it has waited for it long
//! enough that the missing number must belong to a transaction that rolled back.

/// How long a reader waits on a hole in the sequence before taking it for a rollback.
pub const GAP_GRACE_MS: i64 = 10_000;

/// A hole a reader is waiting on: the cursor it stopped at and when it first saw the hole there.
/// Timing starts when the reader sees the hole, not when the rows after it were written, so a
/// long transaction that holds a low number is waited for even if later rows are old.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapWatch {
    pub cursor: i64,
    pub since_ms: i64,
}

/// Given the cursor and the sequence numbers read after it (ascending), returns how many of them
/// may be delivered (a prefix) and the new cursor, updating `watch`.
pub fn advance(
    cursor: i64,
    seqs: &[i64],
    watch: &mut Option<GapWatch>,
    now_ms: i64,
) -> (usize, i64) {
    let mut cur = cursor;
    let mut n = 0;
    for &seq in seqs {
        if seq != cur + 1 {
            match watch {
                Some(w) if w.cursor == cur && now_ms - w.since_ms >= GAP_GRACE_MS => {}
                Some(w) if w.cursor == cur => break,
                _ => {
                    *watch = Some(GapWatch {
                        cursor: cur,
                        since_ms: now_ms,
                    });
                    break;
                }
            }
        }
        cur = seq;
        n += 1;
    }
    if watch.is_some_and(|w| w.cursor != cur) {
        *watch = None;
    }
    (n, cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_runs_advance() {
        let mut w = None;
        assert_eq!(advance(10, &[11, 12], &mut w, 0), (2, 12));
        assert_eq!(w, None);
    }

    #[test]
    fn a_fresh_gap_stops_the_reader_and_starts_the_clock() {
        let mut w = None;
        assert_eq!(advance(10, &[11, 13], &mut w, 100), (1, 11));
        assert_eq!(
            w,
            Some(GapWatch {
                cursor: 11,
                since_ms: 100
            })
        );
        assert_eq!(
            advance(11, &[13], &mut w, 100 + GAP_GRACE_MS - 1),
            (0, 11),
            "still waiting"
        );
    }

    #[test]
    fn the_missing_number_arriving_closes_the_gap() {
        let mut w = None;
        advance(10, &[12], &mut w, 0);
        assert_eq!(advance(10, &[11, 12], &mut w, 5), (2, 12));
        assert_eq!(w, None);
    }

    #[test]
    fn a_gap_waited_out_is_a_rollback_and_is_jumped() {
        let mut w = None;
        assert_eq!(advance(10, &[12, 13], &mut w, 0), (0, 10));
        assert_eq!(advance(10, &[12, 13], &mut w, GAP_GRACE_MS), (2, 13));
        assert_eq!(w, None);
    }
}
