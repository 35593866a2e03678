-- The xxh64 of an ingest upload's bytes, read with their BLAKE3 hash as the last byte arrives:
-- what the platform writes a card's ASC MHL generation from when the card came from a browser.
ALTER TABLE uploads ADD COLUMN xxh64 TEXT;
