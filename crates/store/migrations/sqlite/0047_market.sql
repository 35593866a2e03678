-- The digital asset trading platform. A contributor organisation's listings (each one of its
-- media files, with its words in English and Chinese, held for review when another
-- contributor listed the same bytes first), the licence offers on them, and the licences sold:
-- each the buyer's (`org_id`), naming its seller, with the terms and the price split as they
-- were at the sale. A licence's `key` (the buyer's, unique in its organisation) makes a retried
-- checkout replay it. Download links are the SHA-256 of a secret, good until they expire and
-- only while their licence stands.
--
-- The market's money is kept in the books of the platform's operator: a participant's wallet
-- and what the market owes a contributor are accounts there, held for that organisation
-- (`holder_org_id`), one per purpose and currency.
ALTER TABLE ledger_accounts ADD COLUMN holder_org_id BLOB REFERENCES orgs(id);
CREATE UNIQUE INDEX ledger_accounts_held ON ledger_accounts(org_id, holder_org_id, purpose, currency)
    WHERE holder_org_id IS NOT NULL;
CREATE INDEX ledger_accounts_holder ON ledger_accounts(holder_org_id) WHERE holder_org_id IS NOT NULL;

CREATE TABLE market_listings (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES orgs(id),
    media_file_id   BLOB NOT NULL REFERENCES media_files(id),
    hash            TEXT NOT NULL,
    category        TEXT NOT NULL,
    title_en        TEXT NOT NULL,
    title_zh        TEXT NOT NULL,
    description_en  TEXT NOT NULL,
    description_zh  TEXT NOT NULL,
    keywords        TEXT NOT NULL,
    status          TEXT NOT NULL,
    duplicate_of    BLOB REFERENCES market_listings(id),
    created_by      BLOB NOT NULL REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    published_at    INTEGER,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX market_listings_org ON market_listings(org_id, id);
CREATE INDEX market_listings_hash ON market_listings(hash);
CREATE INDEX market_listings_status ON market_listings(status, id);

CREATE TABLE market_offers (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    listing_id  BLOB NOT NULL REFERENCES market_listings(id),
    kind        TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price > 0),
    currency    TEXT NOT NULL,
    media       TEXT NOT NULL,
    territory   TEXT NOT NULL,
    starts_on   TEXT,
    ends_on     TEXT,
    exclusive   INTEGER NOT NULL,
    ai_training INTEGER NOT NULL,
    active      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX market_offers_listing ON market_offers(listing_id, id);

CREATE TABLE market_licences (
    id                  BLOB PRIMARY KEY,
    org_id              BLOB NOT NULL REFERENCES orgs(id),
    seller_org_id       BLOB NOT NULL REFERENCES orgs(id),
    listing_id          BLOB NOT NULL REFERENCES market_listings(id),
    offer_id            BLOB NOT NULL REFERENCES market_offers(id),
    kind                TEXT NOT NULL,
    title               TEXT NOT NULL,
    title_zh            TEXT NOT NULL,
    price               INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    media               TEXT NOT NULL,
    territory           TEXT NOT NULL,
    starts_on           TEXT NOT NULL,
    ends_on             TEXT NOT NULL,
    exclusive           INTEGER NOT NULL,
    ai_training         INTEGER NOT NULL,
    share_bp            INTEGER NOT NULL,
    contributor_amount  INTEGER NOT NULL,
    fee_amount          INTEGER NOT NULL,
    batch_id            BLOB NOT NULL,
    refund_batch_id     BLOB,
    state               TEXT NOT NULL,
    key                 TEXT,
    fingerprint         TEXT NOT NULL,
    created_by          BLOB NOT NULL REFERENCES users(id),
    created_at          INTEGER NOT NULL,
    refunded_at         INTEGER
);
CREATE UNIQUE INDEX market_licences_key ON market_licences(org_id, key) WHERE key IS NOT NULL;
CREATE INDEX market_licences_org ON market_licences(org_id, id);
CREATE INDEX market_licences_seller ON market_licences(seller_org_id, id);
CREATE INDEX market_licences_listing ON market_licences(listing_id, state);

CREATE TABLE market_downloads (
    token_hash  TEXT PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    licence_id  BLOB NOT NULL REFERENCES market_licences(id),
    expires_at  INTEGER NOT NULL,
    created_by  BLOB NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX market_downloads_licence ON market_downloads(org_id, licence_id);
