-- Camera-card ingests: a card or folder sent file by file (each an upload carrying its `ingest_id`
-- and its `path` on the card), then filed all at once with the card's ASC MHL generation, or not at
-- all. An ingest's upload that has every byte keeps its blob in `blob_hash` (which keeps the blob
-- from being collected) until its ingest is filed; its file then keeps the path on the card.
CREATE TABLE ingests (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    source      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'done', 'failed')),
    files       INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    generation  TEXT,
    problems    TEXT,
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX ingests_org ON ingests(org_id, id);
ALTER TABLE uploads ADD COLUMN ingest_id BLOB REFERENCES ingests(id);
ALTER TABLE uploads ADD COLUMN path TEXT;
ALTER TABLE uploads ADD COLUMN blob_hash TEXT;
CREATE INDEX uploads_ingest ON uploads(ingest_id) WHERE ingest_id IS NOT NULL;
CREATE INDEX uploads_blob ON uploads(blob_hash) WHERE blob_hash IS NOT NULL;
ALTER TABLE media_files ADD COLUMN ingest_id BLOB REFERENCES ingests(id);
ALTER TABLE media_files ADD COLUMN path TEXT;
