-- A production withdraws a verified credit it gave (a person credited by mistake): the row
-- stays, marked, so crediting the crew again does not give it back, and no profile shows it.
ALTER TABLE talent_work_credits ADD COLUMN withdrawn_at BIGINT;
