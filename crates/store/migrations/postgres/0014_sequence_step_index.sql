-- One pipeline step of a sequence (a column of the shot grid) is an index range of its own
-- tasks, not a walk of every task of the sequence. The index replaces `tasks_sequence`, whose
-- (org, sequence) prefix it keeps.
CREATE INDEX tasks_sequence_type ON tasks(org_id, sequence_id, task_type_id);
DROP INDEX tasks_sequence;
