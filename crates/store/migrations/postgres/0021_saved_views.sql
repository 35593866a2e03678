-- A person's saved views of a project's grids: a name and the grid's query (its filters and
-- columns), read back only by that person. Names are unique per person, project and grid.
CREATE TABLE saved_views (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs(id),
    user_id     UUID NOT NULL REFERENCES users(id),
    project_id  UUID NOT NULL REFERENCES projects(id),
    grid        TEXT NOT NULL CHECK (grid IN ('shots', 'assets')),
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX saved_views_name ON saved_views(org_id, user_id, project_id, grid, name);
