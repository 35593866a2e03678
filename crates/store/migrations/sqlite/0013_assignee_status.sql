-- An assignment carries its task's project and status (the status kept in the same transaction
-- as every status change), so "my tasks in this status" across a production is one index range,
-- and counting them reads no task row at all.
ALTER TABLE task_assignees ADD COLUMN status_id BLOB REFERENCES task_statuses(id);
ALTER TABLE task_assignees ADD COLUMN project_id BLOB REFERENCES projects(id);
UPDATE task_assignees SET
    status_id = (SELECT t.status_id FROM tasks t WHERE t.id = task_assignees.task_id),
    project_id = (SELECT t.project_id FROM tasks t WHERE t.id = task_assignees.task_id);
CREATE INDEX task_assignees_user_status ON task_assignees(org_id, user_id, status_id, task_id);
CREATE INDEX task_assignees_user_project ON task_assignees(org_id, user_id, project_id, status_id, task_id);
