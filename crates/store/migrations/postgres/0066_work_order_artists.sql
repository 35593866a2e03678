-- The vendor's artists on an awarded order's tasks: the vendor's rows (`client_org_id` is the
-- production). An artist assigned reads that task of the production's, its notes, versions and
-- media, and hands in versions for it, while the award runs; nothing once it ends.
CREATE TABLE work_order_artists (
    org_id         UUID NOT NULL REFERENCES orgs(id),
    client_org_id  UUID NOT NULL REFERENCES orgs(id),
    order_id       UUID NOT NULL REFERENCES work_orders(id),
    task_id        UUID NOT NULL REFERENCES tasks(id),
    user_id        UUID NOT NULL REFERENCES users(id),
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (order_id, task_id, user_id)
);
CREATE INDEX work_order_artists_user ON work_order_artists(org_id, user_id, order_id);
