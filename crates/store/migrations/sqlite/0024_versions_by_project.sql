-- A project's latest versions (the playlist page's add list) in one index range.
CREATE INDEX versions_project ON versions(org_id, project_id, id);
