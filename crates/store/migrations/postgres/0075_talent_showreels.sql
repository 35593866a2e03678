-- A profile's showreel: a video of the keeping organisation's media, with what it shows. Its
-- words count in the directory's search; whoever may read the profile plays it.
CREATE TABLE talent_showreels (
    profile_id  UUID PRIMARY KEY REFERENCES talent_profiles(id),
    org_id      UUID NOT NULL REFERENCES orgs(id),
    media_id    UUID NOT NULL REFERENCES media_files(id),
    note        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
