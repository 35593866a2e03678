-- Time logs: a person's minutes on a task for one day (YYYY-MM-DD), with an optional comment.

CREATE TABLE time_logs (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    task_id     BLOB NOT NULL REFERENCES tasks(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    date        TEXT NOT NULL,
    minutes     INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    comment     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX time_logs_task ON time_logs(org_id, task_id, id);
CREATE INDEX time_logs_user ON time_logs(org_id, user_id, date);
