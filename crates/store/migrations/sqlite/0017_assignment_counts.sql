-- How many tasks each person has, per project and status, kept exact by triggers in the
-- transaction of every change to an assignment: "my tasks" filtered by project and status is
-- counted by reading one row, however many tasks the person has (the count of a filtered page
-- otherwise walks the matching assignments, up to the cap of 10,000). SQLite only: it has one
-- writer at a time, so the hot rows of a busy person cost no waiting. On PostgreSQL concurrent
-- status changes of one person's tasks would queue (and could deadlock) on them.
CREATE TABLE assignment_counts (
    org_id      BLOB NOT NULL,
    user_id     BLOB NOT NULL,
    project_id  BLOB NOT NULL,
    status_id   BLOB NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, project_id, status_id)
) WITHOUT ROWID;
INSERT INTO assignment_counts (org_id, user_id, project_id, status_id, n)
SELECT org_id, user_id, project_id, status_id, COUNT(*) FROM task_assignees
WHERE project_id IS NOT NULL AND status_id IS NOT NULL
GROUP BY org_id, user_id, project_id, status_id;

CREATE TRIGGER assignment_counts_insert AFTER INSERT ON task_assignees
WHEN NEW.project_id IS NOT NULL AND NEW.status_id IS NOT NULL
BEGIN
    INSERT INTO assignment_counts (org_id, user_id, project_id, status_id, n)
    VALUES (NEW.org_id, NEW.user_id, NEW.project_id, NEW.status_id, 1)
    ON CONFLICT (org_id, user_id, project_id, status_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER assignment_counts_delete AFTER DELETE ON task_assignees
WHEN OLD.project_id IS NOT NULL AND OLD.status_id IS NOT NULL
BEGIN
    UPDATE assignment_counts SET n = n - 1
    WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND project_id = OLD.project_id AND status_id = OLD.status_id;
END;

CREATE TRIGGER assignment_counts_update AFTER UPDATE OF org_id, user_id, project_id, status_id ON task_assignees
WHEN OLD.org_id IS NOT NEW.org_id OR OLD.user_id IS NOT NEW.user_id
  OR OLD.project_id IS NOT NEW.project_id OR OLD.status_id IS NOT NEW.status_id
BEGIN
    UPDATE assignment_counts SET n = n - 1
    WHERE OLD.project_id IS NOT NULL AND OLD.status_id IS NOT NULL
      AND org_id = OLD.org_id AND user_id = OLD.user_id AND project_id = OLD.project_id AND status_id = OLD.status_id;
    INSERT INTO assignment_counts (org_id, user_id, project_id, status_id, n)
    SELECT NEW.org_id, NEW.user_id, NEW.project_id, NEW.status_id, 1
    WHERE NEW.project_id IS NOT NULL AND NEW.status_id IS NOT NULL
    ON CONFLICT (org_id, user_id, project_id, status_id) DO UPDATE SET n = n + 1;
END;
