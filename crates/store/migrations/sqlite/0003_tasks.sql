-- Tasks on shots, with per-project task types, a status workflow and notes.

CREATE TABLE task_statuses (
    id               BLOB PRIMARY KEY,
    org_id           BLOB NOT NULL REFERENCES orgs(id),
    project_id       BLOB NOT NULL REFERENCES projects(id),
    name             TEXT NOT NULL,
    short_name       TEXT NOT NULL,
    color            TEXT NOT NULL,
    is_done          BOOLEAN NOT NULL,
    is_retake        BOOLEAN NOT NULL,
    needs_review     BOOLEAN NOT NULL,
    client_approved  BOOLEAN NOT NULL,
    is_default       BOOLEAN NOT NULL,
    sort_order       INTEGER NOT NULL,
    UNIQUE (project_id, short_name)
);

CREATE TABLE status_transitions (
    org_id          BLOB NOT NULL REFERENCES orgs(id),
    project_id      BLOB NOT NULL REFERENCES projects(id),
    from_status_id  BLOB NOT NULL REFERENCES task_statuses(id),
    to_status_id    BLOB NOT NULL REFERENCES task_statuses(id),
    PRIMARY KEY (project_id, from_status_id, to_status_id)
);

CREATE TABLE task_types (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    name        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    color       TEXT NOT NULL,
    sort_order  INTEGER NOT NULL,
    UNIQUE (project_id, short_name)
);

CREATE TABLE tasks (
    id                BLOB PRIMARY KEY,
    org_id            BLOB NOT NULL REFERENCES orgs(id),
    project_id        BLOB NOT NULL REFERENCES projects(id),
    sequence_id       BLOB NOT NULL REFERENCES sequences(id),
    shot_id           BLOB NOT NULL REFERENCES shots(id),
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
    UNIQUE (shot_id, task_type_id)
);
CREATE INDEX tasks_sequence ON tasks(org_id, sequence_id, shot_id);
CREATE INDEX tasks_project ON tasks(org_id, project_id, id);
CREATE INDEX tasks_project_status ON tasks(org_id, project_id, status_id, id);

CREATE TABLE task_assignees (
    task_id  BLOB NOT NULL REFERENCES tasks(id),
    user_id  BLOB NOT NULL REFERENCES users(id),
    org_id   BLOB NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX task_assignees_user ON task_assignees(org_id, user_id, task_id);

CREATE TABLE notes (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    project_id   BLOB NOT NULL REFERENCES projects(id),
    task_id      BLOB NOT NULL REFERENCES tasks(id),
    parent_id    BLOB REFERENCES notes(id),
    author_id    BLOB NOT NULL REFERENCES users(id),
    body         TEXT NOT NULL,
    frame        INTEGER,
    status_from  BLOB,
    status_to    BLOB,
    created_at   INTEGER NOT NULL
);
CREATE INDEX notes_task ON notes(org_id, task_id, id);
