-- A member's cart: the offers it gathered to buy together (`user_id`, in its organisation), and
-- the orders its checkouts made, each buying a licence on every offer of the cart in one
-- transaction; a licence bought so names its order. An order's `key` (the buyer's, unique in
-- its organisation) makes a retried checkout answer the order it made.
CREATE TABLE market_cart (
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    offer_id    BLOB NOT NULL REFERENCES market_offers(id),
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, offer_id)
);

CREATE TABLE market_orders (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    key         TEXT,
    licences    INTEGER NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX market_orders_key ON market_orders(org_id, key) WHERE key IS NOT NULL;

ALTER TABLE market_licences ADD COLUMN order_id BLOB REFERENCES market_orders(id);
