-- The locators (an editor's markers) of a shot, as the conform wrote them from the cut's `* LOC:`
-- lines or OTIO markers: a frame of the shot (from its cut_in to its cut_out, both included), a
-- colour (RED, GREEN, … or none) and a text, in order. A conform replaces a shot's whole set.
CREATE TABLE shot_locators (
    org_id    UUID NOT NULL REFERENCES orgs(id),
    shot_id   UUID NOT NULL REFERENCES shots(id),
    position  BIGINT NOT NULL,
    frame     BIGINT NOT NULL,
    colour    TEXT,
    text      TEXT NOT NULL,
    PRIMARY KEY (shot_id, position)
);
