-- Which roles may set each status of a workflow, as space-separated role names. Owners and
-- admins may set any status; an artist only on a task assigned to them.
ALTER TABLE task_statuses ADD COLUMN set_by TEXT NOT NULL DEFAULT '';
UPDATE task_statuses SET set_by = CASE
    WHEN client_approved THEN 'producer supervisor client'
    WHEN is_done OR is_retake THEN 'supervisor'
    WHEN is_default THEN 'producer coordinator supervisor'
    ELSE 'artist supervisor'
END;
