-- A card ingested again finds what it already filed into the project by path (and bytes).
CREATE INDEX media_files_path ON media_files(project_id, path) WHERE path IS NOT NULL;
