-- The platform operator's ruling on a work order's dispute, kept on the order for both sides:
-- `release` or `refund`, why, and when.
ALTER TABLE work_orders ADD COLUMN ruling TEXT;
ALTER TABLE work_orders ADD COLUMN ruling_note TEXT;
ALTER TABLE work_orders ADD COLUMN ruled_at INTEGER;
