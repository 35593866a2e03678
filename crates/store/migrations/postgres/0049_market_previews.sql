-- A listing's preview: its media with the platform's mark burnt into every frame, at most 720
-- lines, made by a `media.watermark` job when it goes on sale (footage and VFX elements); the
-- original is never shown.
ALTER TABLE market_listings ADD COLUMN preview_hash TEXT REFERENCES blobs(hash);
ALTER TABLE market_listings ADD COLUMN preview_job_id UUID;
-- The licences a sale is weighed against: a listing's standing ones, the exclusive apart (a
-- non-exclusive sale reads only those, however many it sold before).
CREATE INDEX market_licences_standing ON market_licences(listing_id, exclusive) WHERE state = 'active';
