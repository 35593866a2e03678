-- Notes on shots, assets and versions as well as on tasks, and the members a note mentions.

ALTER TABLE notes
    ALTER COLUMN task_id DROP NOT NULL,
    ADD COLUMN shot_id UUID REFERENCES shots(id),
    ADD COLUMN asset_id UUID REFERENCES assets(id),
    ADD COLUMN version_id UUID REFERENCES versions(id),
    -- The user ids of `note_mentions`, space-separated, as `tasks.assignees` keeps its own.
    ADD COLUMN mentions TEXT NOT NULL DEFAULT '',
    ADD CONSTRAINT notes_one_subject CHECK (num_nonnulls(task_id, shot_id, asset_id, version_id) = 1);
CREATE INDEX notes_shot ON notes(org_id, shot_id, id) WHERE shot_id IS NOT NULL;
CREATE INDEX notes_asset ON notes(org_id, asset_id, id) WHERE asset_id IS NOT NULL;
CREATE INDEX notes_version ON notes(org_id, version_id, id) WHERE version_id IS NOT NULL;

-- Who a note mentions: members of the note's organisation only.
CREATE TABLE note_mentions (
    note_id  UUID NOT NULL REFERENCES notes(id),
    user_id  UUID NOT NULL REFERENCES users(id),
    org_id   UUID NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (note_id, user_id)
);
-- A person's mentions, newest first.
CREATE INDEX note_mentions_user ON note_mentions(org_id, user_id, note_id);
