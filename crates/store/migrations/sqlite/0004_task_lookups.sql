-- A shot's tasks by (org, shot): without it the planner could walk every task of the
-- organisation through an org-led index to find one shot's six.
CREATE INDEX tasks_shot ON tasks(org_id, shot_id);
