-- A member's cart: the offers it gathered to buy together (`user_id`, in its organisation), and
-- the orders its checkouts made, each buying a licence on every offer of the cart in one
-- transaction; a licence bought so names its order. An order's `key` (the buyer's, unique in
-- its organisation) makes a retried checkout answer the order it made.
CREATE TABLE market_cart (
    org_id      UUID NOT NULL REFERENCES orgs(id),
    user_id     UUID NOT NULL REFERENCES users(id),
    offer_id    UUID NOT NULL REFERENCES market_offers(id),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, offer_id)
);

CREATE TABLE market_orders (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs(id),
    key         TEXT,
    licences    BIGINT NOT NULL,
    created_by  UUID NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX market_orders_key ON market_orders(org_id, key) WHERE key IS NOT NULL;

ALTER TABLE market_licences ADD COLUMN order_id UUID REFERENCES market_orders(id);
