-- A person's saved views of a project's grids: a name and the grid's query (its filters and
-- columns), read back only by that person. Names are unique per person, project and grid.
CREATE TABLE saved_views (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    grid        TEXT NOT NULL CHECK (grid IN ('shots', 'assets')),
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX saved_views_name ON saved_views(org_id, user_id, project_id, grid, name);
