-- What ffprobe said of a file (`core::media::probe::Probe` as JSON), or why it could not read
-- it; both empty until its probe job has run.
ALTER TABLE media_files ADD COLUMN probe TEXT;
ALTER TABLE media_files ADD COLUMN probe_error TEXT;
-- The files kept before probes existed are read too.
INSERT INTO jobs (id, org_id, kind, payload, priority, status, attempts, max_attempts, run_after,
                  created_at, updated_at)
SELECT gen_random_uuid(), org_id, 'media.probe',
       json_build_object('media_file_id', id::text, 'hash', hash)::text,
       0, 'queued', 0, 3, created_at, created_at, created_at
FROM media_files;
