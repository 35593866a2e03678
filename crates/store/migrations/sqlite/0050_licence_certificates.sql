-- A licence's verification code: the last part of its certificate's public address, which
-- anyone holding it can open to see whether the licence stands. Random, so the licence's id
-- (which its contributor sees in its sales) does not open it.
ALTER TABLE market_licences ADD COLUMN verify_code TEXT;
CREATE UNIQUE INDEX market_licences_verify ON market_licences(verify_code) WHERE verify_code IS NOT NULL;
