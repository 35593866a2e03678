-- A conform with many new shots writes them out of sight, a batch a transaction, and shows them
-- in one short transaction at the end: `staged` holds the conform's id until then. Every read of
-- a sequence's shots skips staged rows. (PostgreSQL conforms in one transaction; the column is
-- kept so both backends read alike.)
ALTER TABLE shots ADD COLUMN staged UUID;
