-- What a version is made of: files of its organisation (a render, its EXRs' proxy, a sound mix),
-- in the order given.
CREATE TABLE version_media (
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    version_id    BLOB NOT NULL REFERENCES versions(id),
    media_file_id BLOB NOT NULL REFERENCES media_files(id),
    position      INTEGER NOT NULL,
    PRIMARY KEY (version_id, media_file_id)
);
CREATE INDEX version_media_file ON version_media(media_file_id);
