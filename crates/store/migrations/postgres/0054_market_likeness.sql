-- A listing's likeness to others: the difference hashes of frames sampled evenly from its
-- picture (`mstation_core::market::signature`, 16 hexadecimal digits a frame), written by its
-- preview's job. A listing of another contributor whose picture is a near duplicate of one on
-- sale before it is held for review, like a copy of its bytes.
ALTER TABLE market_listings ADD COLUMN likeness TEXT;
