-- A review note's range (its last frame, both ends included: frames frame..=frame_out) and its
-- drawing on the picture: shapes as vectors in coordinates relative to the picture, as JSON
-- (`core::tracking::drawing`).
ALTER TABLE notes ADD COLUMN frame_out INTEGER;
ALTER TABLE notes ADD COLUMN drawing TEXT;
