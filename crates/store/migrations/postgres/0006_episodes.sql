-- Episodes, for series: optional per project. A sequence, and an asset made for one episode,
-- may name its episode.

CREATE TABLE episodes (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs(id),
    project_id   UUID NOT NULL REFERENCES projects(id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    UNIQUE (project_id, name)
);
CREATE INDEX episodes_project ON episodes(org_id, project_id, id);

ALTER TABLE sequences ADD COLUMN episode_id UUID REFERENCES episodes(id);
ALTER TABLE assets ADD COLUMN episode_id UUID REFERENCES episodes(id);
CREATE INDEX sequences_episode ON sequences(org_id, episode_id);
CREATE INDEX assets_episode ON assets(org_id, episode_id);
