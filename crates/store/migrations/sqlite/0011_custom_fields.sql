-- Custom fields: per project, the fields its shots, assets or tasks carry beyond the built-in
-- columns, and their values.

CREATE TABLE custom_fields (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    project_id  BLOB NOT NULL REFERENCES projects(id),
    entity      TEXT NOT NULL CHECK (entity IN ('shot', 'asset', 'task')),
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'choice')),
    -- The choices of a choice field, one per line (a choice has no line breaks).
    choices     TEXT NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (project_id, entity, key)
);
CREATE INDEX custom_fields_project ON custom_fields(org_id, project_id, entity, sort_order);
-- A `field.<key>` filter across the organisation's projects finds its fields by key.
CREATE INDEX custom_fields_key ON custom_fields(org_id, entity, key);

-- One row per entity and field that has a value. The entity is a shot, an asset or a task
-- (ids are unique across tables, so no foreign key names it; `custom_fields.entity` says which).
-- `value` is the checked value as text, given back as it was set and compared for equality on
-- text and choice fields; `num` orders numbers and dates (a date as YYYYMMDD), so that equality
-- and ranges on them compare numbers, not strings ("10" after "9", 1.0 equal to 1).
-- One text column and one number column instead of a column per kind: a filter always reads
-- exactly one of two indexes, and a new kind needs no new column.
CREATE TABLE custom_values (
    entity_id  BLOB NOT NULL,
    field_id   BLOB NOT NULL REFERENCES custom_fields(id),
    org_id     BLOB NOT NULL REFERENCES orgs(id),
    value      TEXT NOT NULL,
    num        REAL,
    PRIMARY KEY (entity_id, field_id)
);
-- The filters of the task list: equality on text, equality and ranges on numbers and dates.
CREATE INDEX custom_values_text ON custom_values(field_id, value, entity_id);
CREATE INDEX custom_values_num ON custom_values(field_id, num, entity_id);
