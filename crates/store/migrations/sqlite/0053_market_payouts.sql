-- What the market pays its contributors. A contributor's agreement (`org_id`, the contributor)
-- sets its share of every sale in basis points from a first day on; the platform's operator
-- announces it at least 30 days before that day, and each licence keeps the agreement it was
-- sold under (`agreement_id`, none for the platform's standing 70 %) with the share it gave.
--
-- A payout batch (the operator's, one per calendar month of sales, UTC) moves what the market
-- owes each contributor for that month's standing sales into the contributor's market wallet,
-- once no refund can reach them; its lines are the contributors' (`org_id`), one per currency,
-- and each licence it paid names it (`payout_id`).
CREATE TABLE market_agreements (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES orgs(id),
    share_bp        INTEGER NOT NULL CHECK (share_bp BETWEEN 0 AND 10000),
    effective_from  TEXT NOT NULL,
    created_by      BLOB NOT NULL REFERENCES users(id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX market_agreements_org ON market_agreements(org_id, effective_from);

CREATE TABLE market_payouts (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    period      TEXT NOT NULL,
    sales       INTEGER NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX market_payouts_period ON market_payouts(org_id, period);

CREATE TABLE market_payout_lines (
    payout_id   BLOB NOT NULL REFERENCES market_payouts(id),
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    period      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    sales       INTEGER NOT NULL,
    transfer_id BLOB REFERENCES ledger_transfers(id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (payout_id, org_id, currency)
);
CREATE INDEX market_payout_lines_org ON market_payout_lines(org_id, period);

ALTER TABLE market_licences ADD COLUMN agreement_id BLOB REFERENCES market_agreements(id);
ALTER TABLE market_licences ADD COLUMN payout_id BLOB REFERENCES market_payouts(id);
