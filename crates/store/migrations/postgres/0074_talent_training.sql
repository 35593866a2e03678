-- Training records: a school (an organisation of kind university) records what one of its
-- members completed there; every profile linked to the person shows it as verified. Withdrawn
-- ones stay, marked, for the school and the person's export.
CREATE TABLE talent_training (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs(id),
    user_id      UUID NOT NULL REFERENCES users(id),
    programme    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    department   TEXT,
    starts_on    TEXT,
    ends_on      TEXT NOT NULL,
    hours        BIGINT,
    created_by   UUID NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    withdrawn_at BIGINT
);
CREATE INDEX talent_training_user ON talent_training(user_id);
CREATE INDEX talent_training_org ON talent_training(org_id, ends_on);
