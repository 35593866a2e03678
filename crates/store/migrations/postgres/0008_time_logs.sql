-- Time logs: a person's minutes on a task for one day (YYYY-MM-DD), with an optional comment.

CREATE TABLE time_logs (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs(id),
    project_id  UUID NOT NULL REFERENCES projects(id),
    task_id     UUID NOT NULL REFERENCES tasks(id),
    user_id     UUID NOT NULL REFERENCES users(id),
    date        TEXT NOT NULL,
    minutes     BIGINT NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    comment     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX time_logs_task ON time_logs(org_id, task_id, id);
CREATE INDEX time_logs_user ON time_logs(org_id, user_id, date);
