-- Credits verified from work done on the platform: once its project is wrapped, a production
-- credits the people assigned to its tasks, with the kinds of work they did and when. The row
-- is the crediting organisation's; every profile linked to the person shows it, with its
-- provenance.
CREATE TABLE talent_work_credits (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    title       TEXT NOT NULL,
    work        TEXT NOT NULL,
    starts_on   TEXT,
    ends_on     TEXT,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, user_id)
);
CREATE INDEX talent_work_credits_user ON talent_work_credits(user_id);
CREATE INDEX talent_work_credits_org ON talent_work_credits(org_id, project_id);
