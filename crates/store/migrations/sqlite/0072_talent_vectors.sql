-- The talent directory's semantic search: each profile's vector from the sentence model
-- (all-MiniLM-L6-v2, 384 numbers as little-endian f32, base64), kept with the digest of the
-- text and model it was made from, so a server's start reads it rather than running the model
-- again. Removed with its profile.
CREATE TABLE talent_vectors (
    profile_id BLOB PRIMARY KEY REFERENCES talent_profiles(id),
    digest TEXT NOT NULL,
    vector TEXT NOT NULL
);
