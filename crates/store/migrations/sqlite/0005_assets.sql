-- no-transaction
-- Assets (characters, props, environments, …) per project, their casting into shots, and tasks
-- on assets: a task now belongs to exactly one of a shot or an asset.
--
-- SQLite cannot relax NOT NULL in place, so `tasks` is rebuilt. Dropping a table that other
-- tables reference fails while foreign keys are enforced (even deferred), and that pragma can
-- only change outside a transaction: hence no-transaction, and our own BEGIN … COMMIT, so the
-- rebuild is still all or nothing.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE assets (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    project_id   BLOB NOT NULL REFERENCES projects(id),
    kind         TEXT NOT NULL CHECK (kind IN ('character', 'prop', 'environment', 'fx', 'vehicle', 'other')),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (project_id, name)
);
CREATE INDEX assets_project ON assets(org_id, project_id, id);

-- Which assets appear in which shots; `count` is how many (a crowd of 12 soldiers), if known.
CREATE TABLE casting (
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    shot_id     BLOB NOT NULL REFERENCES shots(id),
    asset_id    BLOB NOT NULL REFERENCES assets(id),
    count       INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (shot_id, asset_id)
);
CREATE INDEX casting_asset ON casting(org_id, asset_id, shot_id);

CREATE TABLE tasks_rebuilt (
    id                BLOB PRIMARY KEY,
    org_id            BLOB NOT NULL REFERENCES orgs(id),
    project_id        BLOB NOT NULL REFERENCES projects(id),
    sequence_id       BLOB REFERENCES sequences(id),
    shot_id           BLOB REFERENCES shots(id),
    task_type_id      BLOB NOT NULL REFERENCES task_types(id),
    status_id         BLOB NOT NULL REFERENCES task_statuses(id),
    assignees         TEXT NOT NULL DEFAULT '',
    priority          INTEGER NOT NULL DEFAULT 0,
    estimate_minutes  INTEGER,
    start_date        TEXT,
    due_date          TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    asset_id          BLOB REFERENCES assets(id),
    UNIQUE (shot_id, task_type_id),
    UNIQUE (asset_id, task_type_id),
    CONSTRAINT tasks_one_parent CHECK ((shot_id IS NULL) <> (asset_id IS NULL)),
    CONSTRAINT tasks_shot_in_sequence CHECK ((shot_id IS NULL) = (sequence_id IS NULL))
);
INSERT INTO tasks_rebuilt (id, org_id, project_id, sequence_id, shot_id, task_type_id, status_id, assignees, priority,
                           estimate_minutes, start_date, due_date, created_at, updated_at, version, asset_id)
SELECT id, org_id, project_id, sequence_id, shot_id, task_type_id, status_id, assignees, priority,
       estimate_minutes, start_date, due_date, created_at, updated_at, version, NULL
FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_rebuilt RENAME TO tasks;
-- Every index of 0003 and 0004, and one for an asset's tasks.
CREATE INDEX tasks_sequence ON tasks(org_id, sequence_id, shot_id);
CREATE INDEX tasks_project ON tasks(org_id, project_id, id);
CREATE INDEX tasks_project_status ON tasks(org_id, project_id, status_id, id);
CREATE INDEX tasks_shot ON tasks(org_id, shot_id);
CREATE INDEX tasks_asset ON tasks(org_id, asset_id);

COMMIT;
PRAGMA foreign_keys = ON;
