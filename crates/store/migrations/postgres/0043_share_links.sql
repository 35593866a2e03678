-- Share links: a playlist shown to someone outside the organisation through a link that needs no
-- account (the SHA-256 of its secret; a password as argon2id), with a copy of each version made
-- for the link with its recipient's name burnt into every frame (`media.watermark`).
CREATE TABLE share_links (
    id              UUID PRIMARY KEY,
    org_id          UUID NOT NULL REFERENCES orgs(id),
    project_id      UUID NOT NULL REFERENCES projects(id),
    playlist_id     UUID NOT NULL REFERENCES playlists(id),
    recipient       TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    password_hash   TEXT,
    allow_download  BOOLEAN NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    created_by      UUID NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX share_links_playlist ON share_links(org_id, playlist_id, id);

CREATE TABLE share_link_media (
    org_id         UUID NOT NULL REFERENCES orgs(id),
    link_id        UUID NOT NULL REFERENCES share_links(id),
    version_id     UUID NOT NULL REFERENCES versions(id),
    position       BIGINT NOT NULL,
    media_file_id  UUID,
    job_id         UUID,
    hash           TEXT,
    error          TEXT,
    PRIMARY KEY (link_id, version_id)
);
CREATE INDEX share_link_media_hash ON share_link_media(hash);
