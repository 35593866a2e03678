-- What a task is for, in the planner's words (up to 20,000 characters; empty when none).
-- A constant default: existing rows take it without being rewritten.
ALTER TABLE tasks ADD COLUMN description TEXT NOT NULL DEFAULT '';
