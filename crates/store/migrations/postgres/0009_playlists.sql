-- Playlists: versions of one project in the order a review session plays them.

CREATE TABLE playlists (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs(id),
    project_id  UUID NOT NULL REFERENCES projects(id),
    name        TEXT NOT NULL,
    created_by  UUID NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX playlists_project ON playlists(org_id, project_id, id);

CREATE TABLE playlist_items (
    org_id       UUID NOT NULL REFERENCES orgs(id),
    playlist_id  UUID NOT NULL REFERENCES playlists(id),
    position     BIGINT NOT NULL,
    version_id   UUID NOT NULL REFERENCES versions(id),
    PRIMARY KEY (playlist_id, position),
    UNIQUE (playlist_id, version_id)
);
