-- What the storefront's words are matched against: a listing's titles and keywords, lowered by
-- the server as it writes them (the databases lower differently beyond ASCII).
ALTER TABLE market_listings ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE market_listings SET search_text = LOWER(title_en || chr(10) || title_zh || chr(10) || keywords);
