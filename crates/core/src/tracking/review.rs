//! The review status of each version of a task: what the verdicts given on the task said of it.
//! A verdict (a note that moves the task to a finished status, or back to a retake) is about the
//! version that was the task's newest when it was given, as the review player lists it.

use serde::Serialize;

/// What a verdict said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    ChangesRequested,
}

/// Where a version stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// The last verdict given while it was the newest approved it.
    Approved,
    /// The last verdict given while it was the newest asked for changes.
    ChangesRequested,
    /// The newest version, with no verdict yet.
    Waiting,
    /// A newer version came before any verdict on it.
    Passed,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 4] = [
        ReviewStatus::Approved,
        ReviewStatus::ChangesRequested,
        ReviewStatus::Waiting,
        ReviewStatus::Passed,
    ];

    /// Its stable name, as the API and the pages' catalog keys say it (`review-waiting`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Approved => "approved",
            ReviewStatus::ChangesRequested => "changes_requested",
            ReviewStatus::Waiting => "waiting",
            ReviewStatus::Passed => "passed",
        }
    }
}

/// The review status of each of a task's versions, given as their creation instants (any
/// order), from the task's verdicts (instant, what it said; any order). A verdict given at the
/// instant a version was made is about that version.
pub fn statuses(versions: &[i64], verdicts: &[(i64, Verdict)]) -> Vec<ReviewStatus> {
    let mut made: Vec<i64> = versions.to_vec();
    made.sort_unstable();
    versions
        .iter()
        .map(|&at| {
            let next = made.iter().copied().find(|&m| m > at);
            let last = verdicts
                .iter()
                .filter(|(when, _)| *when >= at && next.is_none_or(|n| *when < n))
                .max_by_key(|(when, _)| *when);
            match (last, next) {
                (Some((_, Verdict::Approved)), _) => ReviewStatus::Approved,
                (Some((_, Verdict::ChangesRequested)), _) => ReviewStatus::ChangesRequested,
                (None, None) => ReviewStatus::Waiting,
                (None, Some(_)) => ReviewStatus::Passed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReviewStatus::{Passed, Waiting};
    use Verdict::ChangesRequested;
    const OK: Verdict = Verdict::Approved;
    const APPROVED: ReviewStatus = ReviewStatus::Approved;
    const CHANGES: ReviewStatus = ReviewStatus::ChangesRequested;

    #[test]
    fn each_verdict_is_about_the_newest_version_when_given() {
        // v1 at 10, v2 at 20, v3 at 30 (given newest first, as a page lists them).
        let versions = [30, 20, 10];
        assert_eq!(statuses(&versions, &[]), [Waiting, Passed, Passed]);
        // Changes asked on v1, then v2 approved, then v3 made.
        let verdicts = [(12, ChangesRequested), (25, OK)];
        assert_eq!(statuses(&versions, &verdicts), [Waiting, APPROVED, CHANGES]);
        // The last word on a version is its status: v3 sent back, then approved.
        let verdicts = [(35, ChangesRequested), (36, OK), (25, OK)];
        assert_eq!(statuses(&versions, &verdicts), [APPROVED, APPROVED, Passed]);
        // A verdict given the very instant a version was made is about it.
        assert_eq!(statuses(&[10], &[(10, OK)]), [APPROVED]);
    }
}
