-- Steps belong to shots or to assets: the asset grid's columns are modelling, rigging, texturing
-- and lookdev rather than the shot pipeline. Existing steps stay shot steps; every project gets
-- the default asset steps after its own (a step of that short name it already has is kept).
ALTER TABLE task_types ADD COLUMN entity TEXT NOT NULL DEFAULT 'shot';
INSERT INTO task_types (id, org_id, project_id, name, short_name, color, sort_order, entity)
SELECT gen_random_uuid(), p.org_id, p.id, d.name, d.short_name, d.color, d.sort_order, 'asset'
FROM projects p CROSS JOIN (
    SELECT 'concept' AS short_name, 'Concept' AS name, '#cc79a7' AS color, 100 AS sort_order
    UNION ALL SELECT 'model', 'Modelling', '#56b4e9', 101
    UNION ALL SELECT 'rig', 'Rigging', '#e69f00', 102
    UNION ALL SELECT 'tex', 'Texturing', '#f0e442', 103
    UNION ALL SELECT 'lookdev', 'Lookdev', '#009e73', 104
) d
WHERE NOT EXISTS (SELECT 1 FROM task_types t WHERE t.project_id = p.id AND t.short_name = d.short_name);
