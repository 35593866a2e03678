-- A listing's licences in one index instead of two: (listing_id, state, exclusive) serves the
-- sale's read of the exclusive licences standing, the standing terms, a listing's count and
-- the releases' join, and every sale writes one entry into it instead of two.
CREATE INDEX market_licences_listing_terms ON market_licences(listing_id, state, exclusive);
DROP INDEX market_licences_standing;
DROP INDEX market_licences_listing;
