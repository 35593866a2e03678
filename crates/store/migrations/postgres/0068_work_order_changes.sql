-- Change orders: new work asked for while an order runs, written up by the production (the note
-- it came from, the shots, tasks and assets it adds, `scope` as JSON), priced by the vendor and
-- approved by the production, whose approval holds the price as a new milestone
-- (`milestone_id`) and adds the scope to the order. The production's rows; the vendor a party.
CREATE TABLE work_order_changes (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES orgs(id),
    vendor_org_id  UUID NOT NULL REFERENCES orgs(id),
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    number         BIGINT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    note_id        UUID REFERENCES notes(id),
    scope          TEXT NOT NULL,
    -- requested, quoted, approved, declined, withdrawn
    state          TEXT NOT NULL,
    price          BIGINT,
    days           BIGINT,
    quote_note     TEXT NOT NULL,
    milestone_id   UUID,
    created_by     UUID NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    quoted_at      BIGINT,
    decided_at     BIGINT,
    UNIQUE (order_id, number)
);
CREATE INDEX work_order_changes_vendor ON work_order_changes(vendor_org_id, order_id);
