-- An assignment carries its task's status (kept in the same transaction as every status change),
-- so "my tasks in this status" across a whole production is one index range, not a walk through
-- all of a person's tasks.
ALTER TABLE task_assignees ADD COLUMN status_id BLOB REFERENCES task_statuses(id);
UPDATE task_assignees SET status_id = (SELECT t.status_id FROM tasks t WHERE t.id = task_assignees.task_id);
CREATE INDEX task_assignees_user_status ON task_assignees(org_id, user_id, status_id, task_id);
