-- Playlists: versions of one project in the order a review session plays them.

CREATE TABLE playlists (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    name        TEXT NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX playlists_project ON playlists(org_id, project_id, id);

CREATE TABLE playlist_items (
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    playlist_id  BLOB NOT NULL REFERENCES playlists(id),
    position     INTEGER NOT NULL,
    version_id   BLOB NOT NULL REFERENCES versions(id),
    PRIMARY KEY (playlist_id, position),
    UNIQUE (playlist_id, version_id)
);
