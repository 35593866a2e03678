-- What a player scrubs and a sound editor glances at: a sprite sheet of a file's pictures (100
-- frames evenly spread, 10 by 10, each 160 wide) and a picture of its sound's waveform, blobs
-- like any other, made with the proxy.
ALTER TABLE media_files ADD COLUMN sprite_hash TEXT REFERENCES blobs(hash);
ALTER TABLE media_files ADD COLUMN waveform_hash TEXT REFERENCES blobs(hash);
