-- Activity feeds: the audit log names the project a production change belongs to, so a
-- project's feed and a person's production feed are index range reads, newest first.
ALTER TABLE audit_log ADD COLUMN project_id BLOB;
CREATE INDEX audit_project ON audit_log(org_id, project_id, id) WHERE project_id IS NOT NULL;
CREATE INDEX audit_actor_production ON audit_log(org_id, actor_id, id) WHERE project_id IS NOT NULL;
