-- Where the shots of a movie change, as cut detection found them (`core::media::cuts::Cutting`,
-- as JSON), once a `media.cuts` job has looked; and the last job asked to look.
ALTER TABLE media_files ADD COLUMN cuts TEXT;
ALTER TABLE media_files ADD COLUMN cuts_job UUID;
