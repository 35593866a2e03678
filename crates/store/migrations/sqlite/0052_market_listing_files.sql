-- The listings showing a media file, for the storefront's catalogue to index again when
-- the file's probe arrives after the listing went on sale.
CREATE INDEX market_listings_file ON market_listings(media_file_id);
