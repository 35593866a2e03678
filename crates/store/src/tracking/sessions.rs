//! Review sessions: a playlist played together, one presenter's playhead followed by everyone in
//! the session (`core::tracking::session`), and the session's log of what happened in it.
//!
//! The playhead is one row, changed in place, so whoever joins late reads where the session is.
//! Each change appends what it was to the session's log in the same transaction; the log is the
//! session's record, so a seek is not also an audit row (a session of an hour makes thousands).
//! Starting, ending and taking over the presenting are recorded as every change is.

use mstation_core::tracking::session::{self, Move, Playhead};
use mstation_core::validate::FieldError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::TrackingRule;
use super::notes::{NOTE_COLS, Note};
use crate::{
    Actor, Change, DbError, FromRow, Millis, Result, Row, StoreError, Tenant, WriteTx, new_id,
    now_ms,
};

/// A review session and where it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewSession {
    pub id: Uuid,
    pub project_id: Uuid,
    pub playlist_id: Uuid,
    /// The playlist's name.
    pub name: String,
    /// Who drives the playhead.
    pub presenter_id: Uuid,
    pub started_by: Uuid,
    pub started_at: Millis,
    /// Once ended, the playhead moves no more; the log and the report stay.
    pub ended_at: Option<Millis>,
    pub playhead: Playhead,
    /// When the playhead was set, on the server's clock: a follower of a playing session counts
    /// on from `playhead.frame` since then.
    pub moved_at: Millis,
    /// Counts the playhead's changes: a follower keeps the highest it has seen.
    pub seq: i64,
    /// The version shown (the playlist's item at `playhead.item`; none once the list is shorter).
    pub version_id: Option<Uuid>,
    /// How many items the playlist has now.
    pub items: i64,
}

const SESSION_COLS: &str = "s.id, s.project_id, s.playlist_id,
     (SELECT p.name FROM playlists p WHERE p.org_id = s.org_id AND p.id = s.playlist_id), s.presenter_id, s.started_by, s.started_at, s.ended_at, s.playhead, s.moved_at, s.seq,
     (SELECT i.version_id FROM playlist_items i WHERE i.org_id = s.org_id AND i.playlist_id = s.playlist_id AND i.position = s.item),
     (SELECT COUNT(*) FROM playlist_items i WHERE i.org_id = s.org_id AND i.playlist_id = s.playlist_id)";

impl FromRow for ReviewSession {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(ReviewSession {
            id: r.get()?,
            project_id: r.get()?,
            playlist_id: r.get()?,
            name: r.get()?,
            presenter_id: r.get()?,
            started_by: r.get()?,
            started_at: r.get()?,
            ended_at: r.get()?,
            // Written by this store from a checked playhead.
            playhead: serde_json::from_str(&r.get::<String>()?).unwrap_or_default(),
            moved_at: r.get()?,
            seq: r.get()?,
            version_id: r.get()?,
            items: r.get()?,
        })
    }
}

/// One line of a session's log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionEvent {
    /// When, on the server's clock.
    pub at: Millis,
    /// Who: the participant, or the presenter for a move.
    pub actor_id: Uuid,
    /// `started`, `joined`, `left`, `presenter` (took over presenting), `ended`; a move of the
    /// playhead (`item`, `play`, `pause`, `seek`, `speed`, `loop`, `drawing`); or `note`.
    pub kind: String,
    /// The playlist's item and version then, and the frame (a note's first frame).
    pub item: Option<i64>,
    pub version_id: Option<Uuid>,
    pub frame: Option<i64>,
    /// A note's last frame, when it is on a range.
    pub frame_out: Option<i64>,
    /// The speed set, the loop's frames, the number of shapes shown, or a note's words.
    pub detail: Option<String>,
    /// The note, and whether something was drawn with it.
    pub note_id: Option<Uuid>,
    pub drawn: bool,
}

impl FromRow for SessionEvent {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(SessionEvent {
            at: r.get()?,
            actor_id: r.get()?,
            kind: r.get()?,
            item: r.get()?,
            version_id: r.get()?,
            frame: r.get()?,
            frame_out: None,
            detail: r.get()?,
            note_id: None,
            drawn: false,
        })
    }
}

impl SessionEvent {
    /// A note written on one of the session's versions while it ran, as its log tells it.
    fn of_note(n: Note, item: Option<i64>) -> Self {
        SessionEvent {
            at: n.created_at,
            actor_id: n.author_id,
            kind: "note".into(),
            item,
            version_id: n.version_id,
            frame: n.frame,
            frame_out: n.frame_out,
            detail: Some(n.body),
            note_id: Some(n.id),
            drawn: n.drawing.is_some(),
        }
    }
}

/// A session's log and the notes written in it, in the order they happened.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionLog {
    pub session: ReviewSession,
    pub events: Vec<SessionEvent>,
    /// The notes written on the session's versions (or their tasks) while it ran, with their
    /// drawings: what a report shows.
    pub notes: Vec<Note>,
}

/// The most lines a session's log keeps (a session past it keeps its playhead moving and its
/// notes, and logs no more moves); joins and leaves are logged only while it has fewer than
/// `MAX_PRESENCE` lines, so followers coming and going never crowd out what was played.
pub const MAX_LOG: i64 = 100_000;
pub const MAX_PRESENCE: i64 = 10_000;

/// Inside a write: the session, locked, as it is.
async fn locked(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid) -> Result<ReviewSession> {
    let text = format!(
        "SELECT {SESSION_COLS} FROM review_sessions s WHERE s.org_id = $1 AND s.id = $2{}",
        tx.lock_rows()
    );
    tx.query_opt(&text, &[org.into(), id.into()])
        .await?
        .ok_or(StoreError::NotFound {
            entity: "review_session",
        })
}

/// Inside a write: appends a line to the session's log, while it has fewer than `limit` lines.
#[allow(clippy::too_many_arguments)]
async fn log(
    tx: &mut WriteTx<'_>,
    org: Uuid,
    s: &ReviewSession,
    actor: Uuid,
    kind: &str,
    at: Millis,
    detail: Option<String>,
    limit: i64,
) -> Result<()> {
    let lines: i64 = tx
        .scalar(
            "SELECT log_lines FROM review_sessions WHERE org_id = $1 AND id = $2",
            &[org.into(), s.id.into()],
        )
        .await?;
    if lines >= limit {
        return Ok(());
    }
    tx.execute(
        "INSERT INTO review_session_events (org_id, session_id, seq, at, actor_id, kind, item, version_id, frame, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            org.into(),
            s.id.into(),
            (lines + 1).into(),
            at.into(),
            actor.into(),
            kind.into(),
            s.playhead.item.into(),
            s.version_id.into(),
            s.playhead.frame.into(),
            detail.into(),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE review_sessions SET log_lines = $3 WHERE org_id = $1 AND id = $2",
        &[org.into(), s.id.into(), (lines + 1).into()],
    )
    .await?;
    Ok(())
}

/// What the log says of a move beyond its kind.
fn detail(m: Move, p: &Playhead) -> Option<String> {
    match m {
        Move::Speed => Some(format!("{}", p.rate)),
        Move::Loop => p.loop_frames.map(|[a, b]| format!("{a}-{b}")),
        Move::Drawing => Some(p.drawing.as_ref().map_or(0, |d| d.len()).to_string()),
        _ => None,
    }
}

fn ended() -> StoreError {
    StoreError::from(TrackingRule::SessionEnded)
}

impl Tenant<'_> {
    /// Starts a review session of a playlist, its caller presenting, on the first item's
    /// `first_frame`.
    pub async fn start_review_session(
        &self,
        playlist_id: Uuid,
        first_frame: i64,
    ) -> Result<ReviewSession> {
        let scope = self.scope().clone();
        let playhead = session::check(
            Playhead {
                frame: first_frame,
                ..Playhead::default()
            },
            1,
        )
        .map_err(|e| StoreError::InvalidValue {
            field: e.field,
            reason: e.reason,
        })?;
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let project: Option<Uuid> = tx
                    .scalar_opt(
                        "SELECT project_id FROM playlists WHERE org_id = $1 AND id = $2",
                        &[org.into(), playlist_id.into()],
                    )
                    .await?;
                let project = project.ok_or(StoreError::NotFound { entity: "playlist" })?;
                let items: i64 = tx
                    .scalar(
                        "SELECT COUNT(*) FROM playlist_items WHERE org_id = $1 AND playlist_id = $2",
                        &[org.into(), playlist_id.into()],
                    )
                    .await?;
                if items == 0 {
                    return Err(FieldError::new("playlist_id", "playlist_empty").into());
                }
                let id = new_id();
                let now = Millis(now_ms());
                tx.execute(
                    "INSERT INTO review_sessions (id, org_id, project_id, playlist_id, presenter_id, started_by, started_at, item, playhead, moved_at, seq, log_lines)
                     VALUES ($1, $2, $3, $4, $5, $5, $6, 0, $7, $6, 1, 0)",
                    &[
                        id.into(),
                        org.into(),
                        project.into(),
                        playlist_id.into(),
                        scope.user_id.into(),
                        now.into(),
                        serde_json::to_string(&playhead).unwrap_or_default().into(),
                    ],
                )
                .await?;
                let s = locked(tx, org, id).await?;
                log(tx, org, &s, scope.user_id, "started", now, None, MAX_LOG).await?;
                let change = Change::new(Some(org), "review_session.started", "review_session", id);
                tx.record(&Actor::of(&scope), change.after(&s)).await?;
                Ok(s)
            })
        })
        .await
    }

    pub async fn review_session(&self, id: Uuid) -> Result<ReviewSession> {
        let text = format!(
            "SELECT {SESSION_COLS} FROM review_sessions s WHERE s.org_id = $1 AND s.id = $2"
        );
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound {
                entity: "review_session",
            })
    }

    /// A playlist's sessions, newest first, at most 20.
    pub async fn review_sessions(&self, playlist_id: Uuid) -> Result<Vec<ReviewSession>> {
        let text = format!(
            "SELECT {SESSION_COLS} FROM review_sessions s WHERE s.org_id = $1 AND s.playlist_id = $2 ORDER BY s.id DESC LIMIT 20"
        );
        self.read(&text, &[self.org_id().into(), playlist_id.into()])
            .await
    }

    /// The presenter moves the playhead: checked against the playlist (`session::check`), logged
    /// as what it changed (`session::moves`). A playhead that changes nothing is not a change.
    pub async fn move_review_session(&self, id: Uuid, to: Playhead) -> Result<ReviewSession> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before = locked(tx, org, id).await?;
                if before.ended_at.is_some() {
                    return Err(ended());
                }
                if before.presenter_id != scope.user_id {
                    return Err(StoreError::from(TrackingRule::NotPresenter));
                }
                let to = session::check(to, before.items).map_err(|e| {
                    StoreError::InvalidValue {
                        field: e.field,
                        reason: e.reason,
                    }
                })?;
                let moves = session::moves(&before.playhead, &to);
                if moves.is_empty() {
                    return Ok(before);
                }
                let now = Millis(now_ms());
                tx.execute(
                    "UPDATE review_sessions SET item = $3, playhead = $4, moved_at = $5, seq = seq + 1 WHERE org_id = $1 AND id = $2",
                    &[
                        org.into(),
                        id.into(),
                        to.item.into(),
                        serde_json::to_string(&to).unwrap_or_default().into(),
                        now.into(),
                    ],
                )
                .await?;
                let after = locked(tx, org, id).await?;
                for m in moves {
                    log(
                        tx,
                        org,
                        &after,
                        scope.user_id,
                        m.as_str(),
                        now,
                        detail(m, &to),
                        MAX_LOG,
                    )
                    .await?;
                }
                Ok(after)
            })
        })
        .await
    }

    /// The caller presents from now on (the presenter they take over from follows).
    pub async fn present_review_session(&self, id: Uuid) -> Result<ReviewSession> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before = locked(tx, org, id).await?;
                if before.ended_at.is_some() {
                    return Err(ended());
                }
                if before.presenter_id == scope.user_id {
                    return Ok(before);
                }
                let now = Millis(now_ms());
                tx.execute(
                    "UPDATE review_sessions SET presenter_id = $3, seq = seq + 1 WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into(), scope.user_id.into()],
                )
                .await?;
                let after = locked(tx, org, id).await?;
                log(tx, org, &after, scope.user_id, "presenter", now, None, MAX_LOG).await?;
                let change = Change::new(Some(org), "review_session.presenter", "review_session", id);
                tx.record(&Actor::of(&scope), change.before(&before).after(&after))
                    .await?;
                Ok(after)
            })
        })
        .await
    }

    /// Ends a session: by its presenter, whoever started it, or someone who plans production.
    pub async fn end_review_session(&self, id: Uuid) -> Result<ReviewSession> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let before = locked(tx, org, id).await?;
                if before.ended_at.is_some() {
                    return Ok(before);
                }
                let may = before.presenter_id == scope.user_id
                    || before.started_by == scope.user_id
                    || scope.can(mstation_core::Permission::PlanProduction);
                if !may {
                    return Err(StoreError::from(TrackingRule::NotPresenter));
                }
                let now = Millis(now_ms());
                tx.execute(
                    "UPDATE review_sessions SET ended_at = $3, seq = seq + 1 WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into(), now.into()],
                )
                .await?;
                let after = locked(tx, org, id).await?;
                log(tx, org, &after, scope.user_id, "ended", now, None, MAX_LOG).await?;
                let change = Change::new(Some(org), "review_session.ended", "review_session", id);
                tx.record(&Actor::of(&scope), change.after(&after)).await?;
                Ok(after)
            })
        })
        .await
    }

    /// Logs that the caller joined (`true`) or left a running session; nothing once it ended.
    pub async fn review_session_presence(&self, id: Uuid, joined: bool) -> Result<()> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let s = locked(tx, org, id).await?;
                if s.ended_at.is_none() {
                    let kind = if joined { "joined" } else { "left" };
                    let now = Millis(now_ms());
                    log(tx, org, &s, scope.user_id, kind, now, None, MAX_PRESENCE).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// The session's log with the notes written on its versions (or on their tasks) while it
    /// ran, in the order they happened.
    pub async fn review_session_log(&self, id: Uuid) -> Result<SessionLog> {
        let session = self.review_session(id).await?;
        let org = self.org_id();
        let mut events: Vec<SessionEvent> = self
            .read(
                "SELECT at, actor_id, kind, item, version_id, frame, detail FROM review_session_events
                 WHERE org_id = $1 AND session_id = $2 ORDER BY seq",
                &[org.into(), id.into()],
            )
            .await?;
        let items: Vec<(Uuid, Uuid)> = self
            .read(
                "SELECT i.version_id, v.task_id FROM playlist_items i JOIN versions v ON v.org_id = i.org_id AND v.id = i.version_id
                 WHERE i.org_id = $1 AND i.playlist_id = $2 ORDER BY i.position",
                &[org.into(), session.playlist_id.into()],
            )
            .await?;
        let until = session.ended_at.map_or(now_ms(), |m| m.0);
        let cols = NOTE_COLS
            .split(", ")
            .map(|c| format!("n.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let found: Vec<Note> = self
            .read(
                &format!(
                    "SELECT {cols} FROM notes n WHERE n.org_id = $1 AND n.created_at >= $2 AND n.created_at <= $3
                     AND (n.version_id IN (SELECT i.version_id FROM playlist_items i WHERE i.org_id = $1 AND i.playlist_id = $4)
                          OR (n.version_id IS NULL AND n.task_id IN (SELECT v.task_id FROM playlist_items i JOIN versions v ON v.org_id = i.org_id AND v.id = i.version_id WHERE i.org_id = $1 AND i.playlist_id = $4)))
                     AND {}
                     ORDER BY n.id LIMIT 5000",
                    super::notes::unheld(5, 6)
                ),
                &[
                    org.into(),
                    session.started_at.into(),
                    Millis(until).into(),
                    session.playlist_id.into(),
                    self.scope().user_id.into(),
                    super::notes::plans_production(self.scope()).into(),
                ],
            )
            .await?;
        // A task's note is the item's whose version is that task's newest in the playlist.
        let item_of = |n: &Note| {
            let by_version = n
                .version_id
                .and_then(|v| items.iter().position(|(iv, _)| *iv == v));
            by_version
                .or_else(|| items.iter().rposition(|(_, t)| Some(*t) == n.task_id))
                .map(|i| i as i64)
        };
        events.extend(found.iter().cloned().map(|n| {
            let item = item_of(&n);
            SessionEvent::of_note(n, item)
        }));
        events.sort_by_key(|e| e.at.0);
        Ok(SessionLog {
            session,
            events,
            notes: found,
        })
    }
}
