-- The parties' names as they were at the sale, for the licence's certificate (an organisation
-- renamed later does not change what its certificates say); the licences sold before read
-- today's names. A verification code for the licences sold before certificates had one. The
-- previews the blob collector keeps, found by their hash.
ALTER TABLE market_licences ADD COLUMN licensee_name TEXT;
ALTER TABLE market_licences ADD COLUMN contributor_name TEXT;
UPDATE market_licences SET verify_code = lower(hex(randomblob(8))) WHERE verify_code IS NULL;
CREATE INDEX market_listings_preview ON market_listings(preview_hash) WHERE preview_hash IS NOT NULL;
