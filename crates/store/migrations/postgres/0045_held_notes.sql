-- A note written by a client (a member in the client role) is held with production: read only by
-- those who plan the production and by its author, its mentions not yet resolved, until a
-- producer or coordinator publishes it to the team. `held_at` is when it was written, and
-- nothing once it is published.
ALTER TABLE notes ADD COLUMN held_at BIGINT;
