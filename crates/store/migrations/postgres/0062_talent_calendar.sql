-- A person's availability: ranked pencil holds, confirmed bookings and days off, each a run
-- of days (inclusive), kept by the organisation that keeps the profile.
CREATE TABLE talent_calendar (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs(id),
    profile_id  UUID NOT NULL REFERENCES talent_profiles(id),
    kind        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    what        TEXT NOT NULL,
    created_by  UUID NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX talent_calendar_profile ON talent_calendar(profile_id, ends_on);
