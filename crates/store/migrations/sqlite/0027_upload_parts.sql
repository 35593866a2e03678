-- Parallel uploads (tus `concatenation`): a partial upload is sent on its own and never becomes a
-- file by itself; a final upload is made of partial ones (`parts`: their ids in order, separated
-- by spaces) and becomes the file.
ALTER TABLE uploads ADD COLUMN concat TEXT CHECK (concat IN ('partial', 'final'));
ALTER TABLE uploads ADD COLUMN parts TEXT;
