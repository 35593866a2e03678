//! Reading the outbox in commit order. On PostgreSQL a sequence number is taken before its
//! transaction commits, so a reader can see seq 12 before seq 11 exists. A reader therefore only
//! moves its cursor over a contiguous run, and jumps a hole only once the transaction that could
//! hold the missing number has ended (committed, and its row read, or rolled back).
//!
//! That is known from PostgreSQL's transaction ids ([`Horizon`]). A writer inserts its audit
//! row before it takes its outbox number, so the transaction holding a hole already had its id
//! when any later number was taken, and so before the read that saw the hole. A reader that saw
//! a hole then takes a fresh transaction id of its own (`bound`): the holder's id is below it.
//! Once a horizon's `xmin` (the oldest transaction still running anywhere on the server) has
//! reached that bound, the holder has ended, and a read made after that horizon sees its row if
//! it committed. However long the holder runs (a conform of thousands of shots), nothing is
//! skipped. (A snapshot's `xmax` would not do as the bound: it is one past the newest
//! *completed* id, and a transaction that started after it is not counted as running.) Where
//! there is no horizon (SQLite commits in number order, so a hole is never in flight) a hole is
//! jumped after [`GAP_GRACE_MS`].

/// How long a reader without a transaction horizon waits on a hole before taking it for a
/// rollback.
pub const GAP_GRACE_MS: i64 = 10_000;

/// PostgreSQL's transaction horizon at one moment: every transaction id below `xmin` had ended.
/// `bound`, when asked for, is a transaction id handed out just after that moment: every
/// transaction that had its id before is below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub xmin: i64,
    pub bound: Option<i64>,
}

/// A hole a reader is waiting on: the cursor it stopped at, when it first saw the hole there,
/// and the first `bound` taken after it saw it (the holder's id is below it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapWatch {
    pub cursor: i64,
    pub since_ms: i64,
    pub holder_below: Option<i64>,
}

/// Given the cursor and the sequence numbers read after it (ascending), returns how many of them
/// may be delivered (a prefix) and the new cursor, updating `watch`. `horizon`, where the
/// backend has one, must be read after the previous read and before this one, with a `bound`
/// while the watch has none.
pub fn advance(
    cursor: i64,
    seqs: &[i64],
    watch: &mut Option<GapWatch>,
    now_ms: i64,
    horizon: Option<Horizon>,
) -> (usize, i64) {
    // A hole seen by the previous read: its holder's id is below this horizon's bound.
    if let (Some(w), Some(Horizon { bound: Some(b), .. })) = (watch.as_mut(), horizon)
        && w.holder_below.is_none()
    {
        w.holder_below = Some(b);
    }
    let settled = |w: &GapWatch| match (w.holder_below, horizon) {
        (Some(below), Some(h)) => h.xmin >= below,
        (_, Some(_)) => false,
        (_, None) => now_ms - w.since_ms >= GAP_GRACE_MS,
    };
    let mut cur = cursor;
    let mut n = 0;
    for &seq in seqs {
        if seq != cur + 1 {
            match watch {
                Some(w) if w.cursor == cur && settled(w) => {}
                Some(w) if w.cursor == cur => break,
                _ => {
                    *watch = Some(GapWatch {
                        cursor: cur,
                        since_ms: now_ms,
                        holder_below: None,
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
        assert_eq!(advance(10, &[11, 12], &mut w, 0, None), (2, 12));
        assert_eq!(w, None);
    }

    #[test]
    fn a_fresh_gap_stops_the_reader_and_starts_the_clock() {
        let mut w = None;
        assert_eq!(advance(10, &[11, 13], &mut w, 100, None), (1, 11));
        assert_eq!(
            w,
            Some(GapWatch {
                cursor: 11,
                since_ms: 100,
                holder_below: None
            })
        );
        assert_eq!(
            advance(11, &[13], &mut w, 100 + GAP_GRACE_MS - 1, None),
            (0, 11),
            "still waiting"
        );
    }

    #[test]
    fn the_missing_number_arriving_closes_the_gap() {
        let mut w = None;
        advance(10, &[12], &mut w, 0, None);
        assert_eq!(advance(10, &[11, 12], &mut w, 5, None), (2, 12));
        assert_eq!(w, None);
    }

    #[test]
    fn a_gap_waited_out_is_a_rollback_and_is_jumped() {
        let mut w = None;
        assert_eq!(advance(10, &[12, 13], &mut w, 0, None), (0, 10));
        assert_eq!(advance(10, &[12, 13], &mut w, GAP_GRACE_MS, None), (2, 13));
        assert_eq!(w, None);
    }

    fn h(xmin: i64, bound: i64) -> Option<Horizon> {
        Some(Horizon {
            xmin,
            bound: Some(bound),
        })
    }

    #[test]
    fn a_hole_waits_for_its_holder_however_long_it_runs() {
        let mut w = None;
        // Seq 11 is held by a transaction with an id below 500; 12 and 13 have committed.
        assert_eq!(advance(10, &[12, 13], &mut w, 0, h(400, 500)), (0, 10));
        // An hour later the holder is still running: the oldest running id is below 900.
        let hour = 3_600_000;
        assert_eq!(advance(10, &[12, 13], &mut w, hour, h(450, 900)), (0, 10));
        assert_eq!(
            w.unwrap().holder_below,
            Some(900),
            "set by the first horizon after the hole"
        );
        // It commits: its row is read in order, before 12.
        assert_eq!(
            advance(10, &[11, 12, 13], &mut w, hour + 1, h(901, 950)),
            (3, 13)
        );
        assert_eq!(w, None);
    }

    #[test]
    fn a_hole_whose_holder_rolled_back_is_jumped_once_the_horizon_passes() {
        let mut w = None;
        assert_eq!(advance(10, &[12], &mut w, 0, h(400, 500)), (0, 10));
        assert_eq!(
            advance(10, &[12], &mut w, 1, h(400, 600)),
            (0, 10),
            "600 may hold it"
        );
        assert_eq!(advance(10, &[12], &mut w, 2, h(599, 700)), (0, 10));
        assert_eq!(
            advance(10, &[12], &mut w, 3, h(600, 700)),
            (1, 12),
            "everything below 600 ended"
        );
    }

    #[test]
    fn with_a_horizon_time_alone_never_jumps_a_hole() {
        let mut w = None;
        advance(10, &[12], &mut w, 0, h(5, 9));
        assert_eq!(
            advance(10, &[12], &mut w, 10 * GAP_GRACE_MS, h(8, 9)),
            (0, 10)
        );
    }

    #[test]
    fn the_bound_is_kept_from_the_first_horizon_that_had_one() {
        let mut w = None;
        advance(10, &[12], &mut w, 0, None);
        let no_bound = Some(Horizon {
            xmin: 50,
            bound: None,
        });
        assert_eq!(advance(10, &[12], &mut w, 1, no_bound), (0, 10));
        assert_eq!(w.unwrap().holder_below, None);
        advance(10, &[12], &mut w, 2, h(60, 70));
        advance(10, &[12], &mut w, 3, h(65, 99));
        assert_eq!(
            w.unwrap().holder_below,
            Some(70),
            "a later bound does not move it"
        );
    }
}
