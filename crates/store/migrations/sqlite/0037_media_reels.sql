-- What the media browser sorts camera files by: the reel ffprobe read (`reel_name`, `reel`) and
-- the camera it names (the reel's leading letters: A001C003 is camera A), written with the
-- probe. Files probed before are given theirs from the probe kept.
ALTER TABLE media_files ADD COLUMN reel TEXT;
ALTER TABLE media_files ADD COLUMN camera TEXT;
UPDATE media_files SET reel = NULLIF(trim(json_extract(probe, '$.reel')), '') WHERE probe IS NOT NULL;
-- As `core::media::relink::camera_of`: one or two ASCII letters, then the roll's digits.
UPDATE media_files SET camera = upper(substr(reel, 1, 2)) WHERE reel GLOB '[A-Za-z][A-Za-z][0-9]*';
UPDATE media_files SET camera = upper(substr(reel, 1, 1)) WHERE reel GLOB '[A-Za-z][0-9]*';
CREATE INDEX media_files_reel ON media_files(project_id, reel) WHERE reel IS NOT NULL;
