-- Work orders (context `orders`): a production's call for work on some of its shots, tasks and
-- assets, the bids vendors make for it, and the milestones of its award, each holding its share
-- of the price as a pending transfer in the operator's books until the production accepts it.
CREATE TABLE work_orders (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES orgs(id),
    project_id     UUID NOT NULL REFERENCES projects(id),
    title          TEXT NOT NULL,
    brief          TEXT NOT NULL,
    deliverables   TEXT NOT NULL,
    currency       TEXT NOT NULL,
    budget_min     BIGINT NOT NULL,
    budget_max     BIGINT NOT NULL,
    due_on         TEXT NOT NULL,
    nda            BOOLEAN NOT NULL,
    -- `invited`: the vendors invited see it; `platform`: every organisation does.
    visibility     TEXT NOT NULL,
    -- draft, open, awarded, completed, cancelled
    state          TEXT NOT NULL,
    vendor_org_id  UUID REFERENCES orgs(id),
    bid_id         UUID,
    awarded_at     BIGINT,
    -- An open dispute, which freezes the money: the side that opened it, why and when.
    disputed_by    UUID REFERENCES orgs(id),
    dispute        TEXT,
    disputed_at    BIGINT,
    version        BIGINT NOT NULL,
    created_by     UUID NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX work_orders_org ON work_orders(org_id, created_at);
CREATE INDEX work_orders_open ON work_orders(visibility, state, created_at);
CREATE INDEX work_orders_vendor ON work_orders(vendor_org_id);

-- The shots, tasks and assets an order is for.
CREATE TABLE work_order_scope (
    order_id   UUID NOT NULL REFERENCES work_orders(id),
    org_id     UUID NOT NULL REFERENCES orgs(id),
    kind       TEXT NOT NULL,
    entity_id  UUID NOT NULL,
    PRIMARY KEY (order_id, kind, entity_id)
);

-- The vendors invited to bid.
CREATE TABLE work_order_invites (
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    org_id         UUID NOT NULL REFERENCES orgs(id),
    vendor_org_id  UUID NOT NULL REFERENCES orgs(id),
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (order_id, vendor_org_id)
);
CREATE INDEX work_order_invites_vendor ON work_order_invites(vendor_org_id);

-- A vendor's bid (the vendor's row; `client_org_id` is the production that posted the order).
CREATE TABLE work_order_bids (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES orgs(id),
    client_org_id  UUID NOT NULL REFERENCES orgs(id),
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    price          BIGINT NOT NULL,
    days           BIGINT NOT NULL,
    assumptions    TEXT NOT NULL,
    questions      TEXT NOT NULL,
    -- open, withdrawn
    state          TEXT NOT NULL,
    created_by     UUID NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (order_id, org_id)
);
CREATE INDEX work_order_bids_client ON work_order_bids(client_org_id, order_id);

-- The award's milestones: each holds its amount until accepted (paid) or refunded.
CREATE TABLE work_order_milestones (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL REFERENCES orgs(id),
    vendor_org_id  UUID NOT NULL REFERENCES orgs(id),
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    position       BIGINT NOT NULL,
    title          TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    transfer_id    UUID NOT NULL,
    -- held, delivered, changes_requested, accepted, refunded
    state          TEXT NOT NULL,
    delivery_note  TEXT NOT NULL,
    delivered_at   BIGINT,
    review_note    TEXT NOT NULL,
    accepted_at    BIGINT,
    paid_at        BIGINT,
    refunded_at    BIGINT,
    UNIQUE (order_id, position)
);
CREATE INDEX work_order_milestones_vendor ON work_order_milestones(vendor_org_id, order_id);
