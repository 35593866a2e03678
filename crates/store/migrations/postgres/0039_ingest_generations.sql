-- The generations written at an ingest's end in the nested histories of folders on the card (a
-- card's history inside a day folder's), each by its folder's path: the generation kept with
-- the ingest refers to them by their C4 IDs.
CREATE TABLE ingest_generations (
    org_id     UUID NOT NULL REFERENCES orgs(id),
    ingest_id  UUID NOT NULL REFERENCES ingests(id),
    folder     TEXT NOT NULL,
    generation TEXT NOT NULL,
    PRIMARY KEY (ingest_id, folder)
);
