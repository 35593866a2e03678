-- A milestone's deliveries as records: the note, the versions of the order's tasks handed over
-- (`[{id, task_id, number}]`, JSON), and the ASC MHL manifest the vendor's tool wrote of the
-- files; `check_state` (unchecked, verifying, verified, failed) and `check_result` (JSON, file by
-- file) are the platform's verification of the manifest against the files' own bytes.
CREATE TABLE work_order_deliveries (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES orgs(id),
    vendor_org_id  UUID NOT NULL REFERENCES orgs(id),
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    milestone_id   UUID NOT NULL REFERENCES work_order_milestones(id),
    note           TEXT NOT NULL,
    versions       TEXT NOT NULL,
    manifest       TEXT,
    check_state    TEXT NOT NULL,
    check_result   TEXT,
    created_by     UUID NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    checked_at     BIGINT
);
CREATE INDEX work_order_deliveries_order ON work_order_deliveries(order_id, created_at);
CREATE INDEX work_order_deliveries_milestone ON work_order_deliveries(org_id, milestone_id, created_at);
