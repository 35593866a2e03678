-- Share links: a playlist shown to someone outside the organisation through a link that needs no
-- account (the SHA-256 of its secret; a password as argon2id), with a copy of each version made
-- for the link with its recipient's name burnt into every frame (`media.watermark`).
CREATE TABLE share_links (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES orgs(id),
    project_id      BLOB NOT NULL REFERENCES projects(id),
    playlist_id     BLOB NOT NULL REFERENCES playlists(id),
    recipient       TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    password_hash   TEXT,
    allow_download  INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    created_by      BLOB NOT NULL REFERENCES users(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX share_links_playlist ON share_links(org_id, playlist_id, id);

CREATE TABLE share_link_media (
    org_id         BLOB NOT NULL REFERENCES orgs(id),
    link_id        BLOB NOT NULL REFERENCES share_links(id),
    version_id     BLOB NOT NULL REFERENCES versions(id),
    position       INTEGER NOT NULL,
    media_file_id  BLOB,
    job_id         BLOB,
    hash           TEXT,
    error          TEXT,
    PRIMARY KEY (link_id, version_id)
);
CREATE INDEX share_link_media_hash ON share_link_media(hash);
