-- A milestone found by the pending transfer that holds it: the ledger asks before it posts or
-- voids one (`orders::holds_milestone`).
CREATE INDEX work_order_milestones_transfer ON work_order_milestones(transfer_id);
