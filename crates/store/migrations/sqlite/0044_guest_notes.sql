-- Notes a share link's guest writes on a version it shows: held with production (not notes of
-- the version) until a producer or coordinator publishes one, which then becomes a note of the
-- version for the team (`note_id`). `at_ms` is where in the guest's copy it was written.
CREATE TABLE guest_notes (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    link_id       BLOB NOT NULL REFERENCES share_links(id),
    version_id    BLOB NOT NULL REFERENCES versions(id),
    at_ms         INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    published_at  INTEGER,
    published_by  BLOB REFERENCES users(id),
    note_id       BLOB
);
CREATE INDEX guest_notes_link ON guest_notes(org_id, link_id, id);
