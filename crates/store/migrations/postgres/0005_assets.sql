-- Assets (characters, props, environments, …) per project, their casting into shots, and tasks
-- on assets: a task now belongs to exactly one of a shot or an asset.

CREATE TABLE assets (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs(id),
    project_id   UUID NOT NULL REFERENCES projects(id),
    kind         TEXT NOT NULL CHECK (kind IN ('character', 'prop', 'environment', 'fx', 'vehicle', 'other')),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (project_id, name)
);
CREATE INDEX assets_project ON assets(org_id, project_id, id);

-- Which assets appear in which shots; `count` is how many (a crowd of 12 soldiers), if known.
CREATE TABLE casting (
    org_id      UUID NOT NULL REFERENCES orgs(id),
    project_id  UUID NOT NULL REFERENCES projects(id),
    shot_id     UUID NOT NULL REFERENCES shots(id),
    asset_id    UUID NOT NULL REFERENCES assets(id),
    count       BIGINT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (shot_id, asset_id)
);
CREATE INDEX casting_asset ON casting(org_id, asset_id, shot_id);

ALTER TABLE tasks
    ALTER COLUMN sequence_id DROP NOT NULL,
    ALTER COLUMN shot_id DROP NOT NULL,
    ADD COLUMN asset_id UUID REFERENCES assets(id),
    ADD CONSTRAINT tasks_asset_id_task_type_id_key UNIQUE (asset_id, task_type_id),
    ADD CONSTRAINT tasks_one_parent CHECK ((shot_id IS NULL) <> (asset_id IS NULL)),
    ADD CONSTRAINT tasks_shot_in_sequence CHECK ((shot_id IS NULL) = (sequence_id IS NULL));
CREATE INDEX tasks_asset ON tasks(org_id, asset_id);
