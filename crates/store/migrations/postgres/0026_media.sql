-- Media: content-addressed blobs kept once across the platform (`blobs`, by BLAKE3 hash, written
-- to the blob store before their row), an organisation's files referencing them (`media_files`:
-- a blob is reached only through its organisation's own references), and resumable uploads on
-- their way to becoming files (`uploads`, tus 1.0: what has arrived, and which server process
-- holds the upload while it writes, until when).
CREATE TABLE blobs (
    hash        TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE media_files (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs(id),
    project_id   UUID REFERENCES projects(id),
    name         TEXT NOT NULL,
    content_type TEXT,
    size         BIGINT NOT NULL,
    hash         TEXT NOT NULL REFERENCES blobs(hash),
    created_by   UUID NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX media_files_org ON media_files(org_id, id);
CREATE INDEX media_files_hash ON media_files(hash);
CREATE TABLE uploads (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs(id),
    user_id       UUID NOT NULL REFERENCES users(id),
    project_id    UUID REFERENCES projects(id),
    name          TEXT NOT NULL,
    content_type  TEXT,
    metadata      TEXT NOT NULL,
    length        BIGINT NOT NULL,
    received      BIGINT NOT NULL DEFAULT 0,
    holder        TEXT,
    held_until    BIGINT,
    media_file_id UUID REFERENCES media_files(id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX uploads_org ON uploads(org_id, id);
CREATE INDEX uploads_expiry ON uploads(expires_at);
