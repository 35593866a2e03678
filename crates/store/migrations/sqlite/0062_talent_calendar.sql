-- A person's availability: ranked pencil holds, confirmed bookings and days off, each a run
-- of days (inclusive), kept by the organisation that keeps the profile.
CREATE TABLE talent_calendar (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    profile_id  BLOB NOT NULL REFERENCES talent_profiles(id),
    kind        TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    what        TEXT NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX talent_calendar_profile ON talent_calendar(profile_id, ends_on);
