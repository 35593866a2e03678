-- Who on the platform operator's team reviewed a held listing, and when: one put on sale after
-- a review is never held again by a likeness.
ALTER TABLE market_listings ADD COLUMN reviewed_by UUID REFERENCES users(id);
ALTER TABLE market_listings ADD COLUMN reviewed_at BIGINT;
