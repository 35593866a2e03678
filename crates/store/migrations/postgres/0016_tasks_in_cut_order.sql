-- A shot's tasks carry its place in the cut, so one step of a sequence (a column of the shot
-- grid) is one range of one index, already in cut order: no join to the shots and no sort. The
-- key is the shot's: a task is created with it, and the trigger below carries every change of
-- the shot's cut order (a conform) to its tasks in the same transaction. Asset tasks have none.
-- The index replaces `tasks_sequence_type`, whose prefix it keeps.
ALTER TABLE tasks ADD COLUMN cut_order BIGINT;
UPDATE tasks t SET cut_order = s.cut_order FROM shots s WHERE s.id = t.shot_id;
CREATE INDEX tasks_sequence_step ON tasks(org_id, sequence_id, task_type_id, cut_order);
DROP INDEX tasks_sequence_type;
CREATE FUNCTION shots_cut_order_to_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks SET cut_order = NEW.cut_order WHERE shot_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER shots_cut_order_to_tasks AFTER UPDATE OF cut_order ON shots
FOR EACH ROW WHEN (NEW.cut_order IS DISTINCT FROM OLD.cut_order)
EXECUTE FUNCTION shots_cut_order_to_tasks();
