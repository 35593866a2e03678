-- The ledger: accounts of an organisation, one currency each, their four sums (what went out
-- and came in, posted and pending, in minor units) kept on the row and changed only with a
-- transfer; and the transfers, immutable (a pending one's `state` aside), every one with two
-- sides of one amount. A transfer's `key` (the caller's, unique in its organisation) makes a
-- retry replay it, `fingerprint` what it asked; a batch of linked transfers shares its
-- `batch_id`. `amount` is what the transfer moves: held for a pending one, posted for a post,
-- given back for a void or an expiry.
CREATE TABLE ledger_accounts (
    id               BLOB PRIMARY KEY,
    org_id           BLOB NOT NULL REFERENCES orgs(id),
    name             TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    currency         TEXT NOT NULL,
    flags            INTEGER NOT NULL,
    debits_posted    INTEGER NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted   INTEGER NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending   INTEGER NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending  INTEGER NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    created_at       INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE ledger_transfers (
    id                 BLOB PRIMARY KEY,
    org_id             BLOB NOT NULL REFERENCES orgs(id),
    batch_id           BLOB NOT NULL,
    key                TEXT,
    fingerprint        TEXT NOT NULL,
    kind               TEXT NOT NULL,
    debit_account_id   BLOB NOT NULL REFERENCES ledger_accounts(id),
    credit_account_id  BLOB NOT NULL REFERENCES ledger_accounts(id),
    amount             INTEGER NOT NULL CHECK (amount >= 0),
    currency           TEXT NOT NULL,
    pending_id         BLOB REFERENCES ledger_transfers(id),
    timeout_at         INTEGER,
    state              TEXT,
    description        TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    created_by         BLOB,
    CHECK (debit_account_id <> credit_account_id)
);
CREATE UNIQUE INDEX ledger_transfers_key ON ledger_transfers(org_id, key) WHERE key IS NOT NULL;
CREATE INDEX ledger_transfers_debit ON ledger_transfers(debit_account_id, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers(credit_account_id, id);
CREATE INDEX ledger_transfers_due ON ledger_transfers(timeout_at) WHERE state = 'pending';
