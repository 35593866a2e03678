-- Media: content-addressed blobs kept once across the platform (`blobs`, by BLAKE3 hash, written
-- to the blob store before their row), an organisation's files referencing them (`media_files`:
-- a blob is reached only through its organisation's own references), and resumable uploads on
-- their way to becoming files (`uploads`, tus 1.0: what has arrived, and which server process
-- holds the upload while it writes, until when).
CREATE TABLE blobs (
    hash        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE media_files (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    project_id   BLOB REFERENCES projects(id),
    name         TEXT NOT NULL,
    content_type TEXT,
    size         INTEGER NOT NULL,
    hash         TEXT NOT NULL REFERENCES blobs(hash),
    created_by   BLOB NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX media_files_org ON media_files(org_id, id);
CREATE INDEX media_files_hash ON media_files(hash);
CREATE TABLE uploads (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    user_id       BLOB NOT NULL REFERENCES users(id),
    project_id    BLOB REFERENCES projects(id),
    name          TEXT NOT NULL,
    content_type  TEXT,
    metadata      TEXT NOT NULL,
    length        INTEGER NOT NULL,
    received      INTEGER NOT NULL DEFAULT 0,
    holder        TEXT,
    held_until    INTEGER,
    media_file_id BLOB REFERENCES media_files(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX uploads_org ON uploads(org_id, id);
CREATE INDEX uploads_expiry ON uploads(expires_at);
