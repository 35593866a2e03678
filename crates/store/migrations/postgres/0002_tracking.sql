-- Production tracking, first slice: projects, sequences and shots (editorial import lands here).
-- Frame numbers are integers; frame rates are rationals (24000/1001 for 23.976).

CREATE TABLE projects (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    code          TEXT NOT NULL,
    fps_num       BIGINT NOT NULL,
    fps_den       BIGINT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    start_frame   BIGINT NOT NULL,
    head_handles  BIGINT NOT NULL,
    tail_handles  BIGINT NOT NULL,
    start_date    TEXT,
    end_date      TEXT,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    UNIQUE (org_id, code)
);
CREATE INDEX projects_org ON projects(org_id, id);

CREATE TABLE sequences (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs(id),
    project_id   UUID NOT NULL REFERENCES projects(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (project_id, name)
);
CREATE INDEX sequences_project ON sequences(org_id, project_id, id);

CREATE TABLE shots (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs(id),
    project_id    UUID NOT NULL REFERENCES projects(id),
    sequence_id   UUID NOT NULL REFERENCES sequences(id),
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    cut_order     BIGINT NOT NULL,
    cut_in        BIGINT NOT NULL,
    cut_out       BIGINT NOT NULL,
    head_handles  BIGINT NOT NULL,
    tail_handles  BIGINT NOT NULL,
    record_in     BIGINT,
    record_out    BIGINT,
    source_in     BIGINT,
    source_out    BIGINT,
    source_in_tc  TEXT,
    source_out_tc TEXT,
    reel          TEXT,
    clip_name     TEXT,
    description   TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    UNIQUE (sequence_id, name)
);
CREATE INDEX shots_sequence ON shots(org_id, sequence_id, cut_order);
CREATE INDEX shots_project ON shots(org_id, project_id, id);
