-- Review sessions: a playlist played together. The presenter's playhead is one row changed in
-- place (`core::tracking::session::Playhead` as JSON, its item also as a column); each change
-- appends what it was to the session's log.
CREATE TABLE review_sessions (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs(id),
    project_id    UUID NOT NULL REFERENCES projects(id),
    playlist_id   UUID NOT NULL REFERENCES playlists(id),
    presenter_id  UUID NOT NULL REFERENCES users(id),
    started_by    UUID NOT NULL REFERENCES users(id),
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT,
    item          BIGINT NOT NULL,
    playhead      TEXT NOT NULL,
    moved_at      BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    log_lines     BIGINT NOT NULL
);
CREATE INDEX review_sessions_playlist ON review_sessions(org_id, playlist_id, id);

CREATE TABLE review_session_events (
    org_id      UUID NOT NULL REFERENCES orgs(id),
    session_id  UUID NOT NULL REFERENCES review_sessions(id),
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor_id    UUID NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    item        BIGINT,
    version_id  UUID,
    frame       BIGINT,
    detail      TEXT,
    PRIMARY KEY (session_id, seq)
);
