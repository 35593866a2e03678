-- How many bytes of media an organisation may keep (its files and its unfinished uploads);
-- NULL: no limit. Set by the platform's operators (`mstation admin set-media-quota`).
ALTER TABLE orgs ADD COLUMN media_quota BIGINT;
