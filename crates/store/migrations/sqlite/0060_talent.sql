-- The talent data center: people's profiles, kept by an organisation (a post house for its
-- crew, a school for its students, a freelancer's own), shown to the platform or not, and the
-- credits on them. A profile's crew roles and languages are also rows of their own, which the
-- directory's filters read.
CREATE TABLE talent_profiles (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    user_id      BLOB REFERENCES users(id),
    name         TEXT NOT NULL,
    headline     TEXT NOT NULL,
    bio          TEXT NOT NULL,
    department   TEXT NOT NULL,
    roles        TEXT NOT NULL,
    skills       TEXT NOT NULL,
    languages    TEXT NOT NULL,
    city         TEXT NOT NULL,
    country      TEXT NOT NULL,
    day_rate     INTEGER,
    currency     TEXT,
    visibility   TEXT NOT NULL,
    birth_date   TEXT,
    email        TEXT,
    search_text  TEXT NOT NULL,
    created_by   BLOB NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX talent_profiles_org ON talent_profiles(org_id, id);
CREATE INDEX talent_profiles_directory ON talent_profiles(visibility, id);
CREATE UNIQUE INDEX talent_profiles_user ON talent_profiles(org_id, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE talent_profile_facets (
    facet       TEXT NOT NULL,
    value       TEXT NOT NULL,
    profile_id  BLOB NOT NULL REFERENCES talent_profiles(id),
    PRIMARY KEY (facet, value, profile_id)
) WITHOUT ROWID;
CREATE INDEX talent_profile_facets_profile ON talent_profile_facets(profile_id);

CREATE TABLE talent_credits (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    profile_id  BLOB NOT NULL REFERENCES talent_profiles(id),
    title       TEXT NOT NULL,
    role        TEXT NOT NULL,
    company     TEXT NOT NULL,
    year        INTEGER NOT NULL,
    provenance  TEXT NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX talent_credits_profile ON talent_credits(profile_id, year, id);
