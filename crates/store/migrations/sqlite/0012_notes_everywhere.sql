-- no-transaction
-- Notes on shots, assets and versions as well as on tasks, and the members a note mentions.
--
-- SQLite cannot relax NOT NULL in place, so `notes` is rebuilt as `tasks` was in 0005: foreign
-- keys off (only possible outside a transaction), then our own BEGIN … COMMIT, so the rebuild
-- is still all or nothing.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE notes_rebuilt (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    project_id   BLOB NOT NULL REFERENCES projects(id),
    task_id      BLOB REFERENCES tasks(id),
    parent_id    BLOB REFERENCES notes(id),
    author_id    BLOB NOT NULL REFERENCES users(id),
    body         TEXT NOT NULL,
    frame        INTEGER,
    status_from  BLOB,
    status_to    BLOB,
    created_at   INTEGER NOT NULL,
    shot_id      BLOB REFERENCES shots(id),
    asset_id     BLOB REFERENCES assets(id),
    version_id   BLOB REFERENCES versions(id),
    -- The user ids of `note_mentions`, space-separated, as `tasks.assignees` keeps its own.
    mentions     TEXT NOT NULL DEFAULT '',
    CONSTRAINT notes_one_subject CHECK (
        (task_id IS NOT NULL) + (shot_id IS NOT NULL) + (asset_id IS NOT NULL) + (version_id IS NOT NULL) = 1)
);
INSERT INTO notes_rebuilt (id, org_id, project_id, task_id, parent_id, author_id, body, frame, status_from, status_to, created_at)
SELECT id, org_id, project_id, task_id, parent_id, author_id, body, frame, status_from, status_to, created_at
FROM notes;
DROP TABLE notes;
ALTER TABLE notes_rebuilt RENAME TO notes;
-- The index of 0003, and one per new subject.
CREATE INDEX notes_task ON notes(org_id, task_id, id);
CREATE INDEX notes_shot ON notes(org_id, shot_id, id) WHERE shot_id IS NOT NULL;
CREATE INDEX notes_asset ON notes(org_id, asset_id, id) WHERE asset_id IS NOT NULL;
CREATE INDEX notes_version ON notes(org_id, version_id, id) WHERE version_id IS NOT NULL;

-- Who a note mentions: members of the note's organisation only.
CREATE TABLE note_mentions (
    note_id  BLOB NOT NULL REFERENCES notes(id),
    user_id  BLOB NOT NULL REFERENCES users(id),
    org_id   BLOB NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (note_id, user_id)
);
-- A person's mentions, newest first.
CREATE INDEX note_mentions_user ON note_mentions(org_id, user_id, note_id);

COMMIT;
PRAGMA foreign_keys = ON;
