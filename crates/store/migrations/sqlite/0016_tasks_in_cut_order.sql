-- A shot's tasks carry its place in the cut, so one step of a sequence (a column of the shot
-- grid) is one range of one index, already in cut order: no walk of the shots, and no lookup of
-- each shot's tasks. The key is the shot's: a task is created with it, and the trigger below
-- carries every change of the shot's cut order (a conform) to its tasks in the same transaction.
-- Asset tasks have none. The index replaces `tasks_sequence_type`, whose prefix it keeps.
ALTER TABLE tasks ADD COLUMN cut_order INTEGER;
UPDATE tasks SET cut_order = (SELECT s.cut_order FROM shots s WHERE s.id = tasks.shot_id)
WHERE shot_id IS NOT NULL;
CREATE INDEX tasks_sequence_step ON tasks(org_id, sequence_id, task_type_id, cut_order);
DROP INDEX tasks_sequence_type;
CREATE TRIGGER shots_cut_order_to_tasks AFTER UPDATE OF cut_order ON shots
WHEN NEW.cut_order IS NOT OLD.cut_order
BEGIN
    UPDATE tasks SET cut_order = NEW.cut_order WHERE shot_id = NEW.id;
END;
