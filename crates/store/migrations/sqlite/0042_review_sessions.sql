-- Review sessions: a playlist played together. The presenter's playhead is one row changed in
-- place (`core::tracking::session::Playhead` as JSON, its item also as a column); each change
-- appends what it was to the session's log.
CREATE TABLE review_sessions (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    project_id    BLOB NOT NULL REFERENCES projects(id),
    playlist_id   BLOB NOT NULL REFERENCES playlists(id),
    presenter_id  BLOB NOT NULL REFERENCES users(id),
    started_by    BLOB NOT NULL REFERENCES users(id),
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER,
    item          INTEGER NOT NULL,
    playhead      TEXT NOT NULL,
    moved_at      INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    log_lines     INTEGER NOT NULL
);
CREATE INDEX review_sessions_playlist ON review_sessions(org_id, playlist_id, id);

CREATE TABLE review_session_events (
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    session_id  BLOB NOT NULL REFERENCES review_sessions(id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor_id    BLOB NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    item        INTEGER,
    version_id  BLOB,
    frame       INTEGER,
    detail      TEXT,
    PRIMARY KEY (session_id, seq)
);
