-- Model and property releases: a contributor's signed documents (each one of its files),
-- attached to its listing, whom or what each releases named. A download link may fetch a release
-- on file for a licence of the listing (`release_id`) instead of the licensed original.
CREATE TABLE market_releases (
    id              UUID PRIMARY KEY,
    org_id          UUID NOT NULL REFERENCES orgs(id),
    listing_id      UUID NOT NULL REFERENCES market_listings(id),
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    media_file_id   UUID NOT NULL REFERENCES media_files(id),
    created_by      UUID NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX market_releases_listing ON market_releases(listing_id, id);

ALTER TABLE market_downloads ADD COLUMN release_id UUID REFERENCES market_releases(id);
