-- The default workflow's colours move to the Okabe–Ito palette, which people with any common
-- colour-vision deficiency tell apart (retake and done were red and green). Only statuses
-- still in their old default colour change: a studio's own choice stays.
UPDATE task_statuses SET color = CASE color
    WHEN '#3273dc' THEN '#0072b2'
    WHEN '#ab26ff' THEN '#e69f00'
    WHEN '#ff3860' THEN '#d55e00'
    WHEN '#22d160' THEN '#009e73'
    WHEN '#0a7e3b' THEN '#005f46'
END
WHERE (short_name, color) IN (('wip', '#3273dc'), ('wfa', '#ab26ff'), ('retake', '#ff3860'),
                              ('done', '#22d160'), ('approved', '#0a7e3b'));
