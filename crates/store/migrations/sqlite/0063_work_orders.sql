-- Work orders (context `orders`): a production's call for work on some of its shots, tasks and
-- assets, the bids vendors make for it, and the milestones of its award, each holding its share
-- of the price as a pending transfer in the operator's books until the production accepts it.
CREATE TABLE work_orders (
    id             BLOB PRIMARY KEY,
    org_id         BLOB NOT NULL REFERENCES orgs(id),
    project_id     BLOB NOT NULL REFERENCES projects(id),
    title          TEXT NOT NULL,
    brief          TEXT NOT NULL,
    deliverables   TEXT NOT NULL,
    currency       TEXT NOT NULL,
    budget_min     INTEGER NOT NULL,
    budget_max     INTEGER NOT NULL,
    due_on         TEXT NOT NULL,
    nda            BOOLEAN NOT NULL,
    -- `invited`: the vendors invited see it; `platform`: every organisation does.
    visibility     TEXT NOT NULL,
    -- draft, open, awarded, completed, cancelled
    state          TEXT NOT NULL,
    vendor_org_id  BLOB REFERENCES orgs(id),
    bid_id         BLOB,
    awarded_at     INTEGER,
    -- An open dispute, which freezes the money: the side that opened it, why and when.
    disputed_by    BLOB REFERENCES orgs(id),
    dispute        TEXT,
    disputed_at    INTEGER,
    version        INTEGER NOT NULL,
    created_by     BLOB NOT NULL REFERENCES users(id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX work_orders_org ON work_orders(org_id, created_at);
CREATE INDEX work_orders_open ON work_orders(visibility, state, created_at);
CREATE INDEX work_orders_vendor ON work_orders(vendor_org_id);

-- The shots, tasks and assets an order is for.
CREATE TABLE work_order_scope (
    order_id   BLOB NOT NULL REFERENCES work_orders(id),
    org_id     BLOB NOT NULL REFERENCES orgs(id),
    kind       TEXT NOT NULL,
    entity_id  BLOB NOT NULL,
    PRIMARY KEY (order_id, kind, entity_id)
);

-- The vendors invited to bid.
CREATE TABLE work_order_invites (
    order_id       BLOB NOT NULL REFERENCES work_orders(id),
    org_id         BLOB NOT NULL REFERENCES orgs(id),
    vendor_org_id  BLOB NOT NULL REFERENCES orgs(id),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (order_id, vendor_org_id)
);
CREATE INDEX work_order_invites_vendor ON work_order_invites(vendor_org_id);

-- A vendor's bid (the vendor's row; `client_org_id` is the production that posted the order).
CREATE TABLE work_order_bids (
    id             BLOB PRIMARY KEY,
    org_id         BLOB NOT NULL REFERENCES orgs(id),
    client_org_id  BLOB NOT NULL REFERENCES orgs(id),
    order_id       BLOB NOT NULL REFERENCES work_orders(id),
    price          INTEGER NOT NULL,
    days           INTEGER NOT NULL,
    assumptions    TEXT NOT NULL,
    questions      TEXT NOT NULL,
    -- open, withdrawn
    state          TEXT NOT NULL,
    created_by     BLOB NOT NULL REFERENCES users(id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (order_id, org_id)
);
CREATE INDEX work_order_bids_client ON work_order_bids(client_org_id, order_id);

-- The award's milestones: each holds its amount until accepted (paid) or refunded.
CREATE TABLE work_order_milestones (
    id             BLOB PRIMARY KEY,
    org_id         BLOB NOT NULL REFERENCES orgs(id),
    vendor_org_id  BLOB NOT NULL REFERENCES orgs(id),
    order_id       BLOB NOT NULL REFERENCES work_orders(id),
    position       INTEGER NOT NULL,
    title          TEXT NOT NULL,
    amount         INTEGER NOT NULL,
    transfer_id    BLOB NOT NULL,
    -- held, delivered, changes_requested, accepted, refunded
    state          TEXT NOT NULL,
    delivery_note  TEXT NOT NULL,
    delivered_at   INTEGER,
    review_note    TEXT NOT NULL,
    accepted_at    INTEGER,
    paid_at        INTEGER,
    refunded_at    INTEGER,
    UNIQUE (order_id, position)
);
CREATE INDEX work_order_milestones_vendor ON work_order_milestones(vendor_org_id, order_id);
