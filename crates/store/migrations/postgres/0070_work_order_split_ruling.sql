-- What an accepted milestone paid when a ruling split it (the rest went back to the
-- production); NULL: all of its amount.
ALTER TABLE work_order_milestones ADD COLUMN paid_amount BIGINT;
