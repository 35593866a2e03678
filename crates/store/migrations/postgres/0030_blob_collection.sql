-- A blob being collected is marked first (`dying`), its bytes deleted, then its row: an upload
-- of the same bytes meanwhile waits for the row to go and stores them again.
ALTER TABLE blobs ADD COLUMN dying INTEGER NOT NULL DEFAULT 0;
