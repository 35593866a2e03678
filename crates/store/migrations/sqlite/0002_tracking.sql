-- Production tracking, first slice: projects, sequences and shots (editorial import lands here).
-- Frame numbers are integers; frame rates are rationals (24000/1001 for 23.976).

CREATE TABLE projects (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    code          TEXT NOT NULL,
    fps_num       INTEGER NOT NULL,
    fps_den       INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    start_frame   INTEGER NOT NULL,
    head_handles  INTEGER NOT NULL,
    tail_handles  INTEGER NOT NULL,
    start_date    TEXT,
    end_date      TEXT,
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, code)
);
CREATE INDEX projects_org ON projects(org_id, id);

CREATE TABLE sequences (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    project_id   BLOB NOT NULL REFERENCES projects(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (project_id, name)
);
CREATE INDEX sequences_project ON sequences(org_id, project_id, id);

CREATE TABLE shots (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    project_id    BLOB NOT NULL REFERENCES projects(id),
    sequence_id   BLOB NOT NULL REFERENCES sequences(id),
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    cut_order     INTEGER NOT NULL,
    cut_in        INTEGER NOT NULL,
    cut_out       INTEGER NOT NULL,
    head_handles  INTEGER NOT NULL,
    tail_handles  INTEGER NOT NULL,
    record_in     INTEGER,
    record_out    INTEGER,
    source_in     INTEGER,
    source_out    INTEGER,
    source_in_tc  TEXT,
    source_out_tc TEXT,
    reel          TEXT,
    clip_name     TEXT,
    description   TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (sequence_id, name)
);
CREATE INDEX shots_sequence ON shots(org_id, sequence_id, cut_order);
CREATE INDEX shots_project ON shots(org_id, project_id, id);
