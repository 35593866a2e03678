-- The blobs a remote agent sent for the job it holds (space-separated hashes): the job's end may
-- name only these.
ALTER TABLE jobs ADD COLUMN outputs TEXT;
