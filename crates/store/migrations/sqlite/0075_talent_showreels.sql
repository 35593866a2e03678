-- A profile's showreel: a video of the keeping organisation's media, with what it shows. Its
-- words count in the directory's search; whoever may read the profile plays it.
CREATE TABLE talent_showreels (
    profile_id  BLOB PRIMARY KEY REFERENCES talent_profiles(id),
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    media_id    BLOB NOT NULL REFERENCES media_files(id),
    note        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
