-- The shots of a sequence in cut order, with their ids: a sequence's tasks are read by walking
-- this index and looking each shot's tasks up, with no sort and no read of the shot rows.
DROP INDEX shots_sequence;
CREATE INDEX shots_sequence ON shots(org_id, sequence_id, cut_order, id);
