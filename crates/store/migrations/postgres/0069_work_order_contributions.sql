-- What a vendor wrote into the production's tracking through an order: the versions it handed
-- in and the notes it wrote (`kind`), the production's rows. Who wrote something is read from
-- here, not from memberships, which change: the vendor's own people are named to it, another
-- vendor's never; and a delivery hands over only versions the vendor handed in for the order.
CREATE TABLE work_order_contributions (
    org_id         UUID NOT NULL REFERENCES orgs(id),
    vendor_org_id  UUID NOT NULL REFERENCES orgs(id),
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    entity_id      UUID NOT NULL,
    kind           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (order_id, entity_id)
);
CREATE INDEX work_order_contributions_entity ON work_order_contributions(org_id, entity_id);
