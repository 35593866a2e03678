-- A browser proxy (H.264 MP4, faststart, at most 1080 lines, the source timecode kept) and a
-- poster image of a file with pictures: blobs like any other, made by the `media.proxy` job.
ALTER TABLE media_files ADD COLUMN proxy_hash TEXT REFERENCES blobs(hash);
ALTER TABLE media_files ADD COLUMN poster_hash TEXT REFERENCES blobs(hash);
