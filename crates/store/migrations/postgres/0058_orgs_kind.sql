-- The platform's operator found by its kind without a scan of every organisation: every market
-- checkout, credit and payout asks for it.
CREATE INDEX orgs_kind ON orgs(kind, created_at, id);
