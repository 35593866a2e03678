-- Versions of a task's work, numbered 1, 2, 3 … per task. The number is assigned inside the
-- writing transaction (the task row is locked first), and the unique key refuses a duplicate
-- even if that rule were broken.

CREATE TABLE versions (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    task_id     BLOB NOT NULL REFERENCES tasks(id),
    number      INTEGER NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    author_id   BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (task_id, number)
);
CREATE INDEX versions_task ON versions(org_id, task_id, id);
