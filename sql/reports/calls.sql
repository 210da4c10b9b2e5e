-- calls: every call of the period with its verdict and touchpoint, newest
-- first (the dashboard's calls table; each row opens its explanation).
SELECT
    m.task_id AS task_id, m.call_time AS call_time, c.source AS source, m.task_type AS task_type,
    m.verdict AS verdict, m.uid AS uid, m.session_id AS session_id,
    m.minutes_from_session_start AS minutes_from_session_start,
    t.marketing_channel_path AS marketing_channel_path, t.touchpoint_source AS touchpoint_source,
    t.ad_campaign_name AS ad_campaign_name, t.touchpoint_type AS touchpoint_type,
    t.touchpoint_position AS touchpoint_position
FROM call_matches AS m
LEFT JOIN (SELECT task_id, source FROM call_tasks FINAL) AS c ON c.task_id = m.task_id
LEFT JOIN touchpoints AS t ON t.touchpoint_id = m.touchpoint_id
WHERE toDate(m.call_time) BETWEEN {from:Date} AND {to:Date}
ORDER BY m.call_time DESC, m.task_id
LIMIT 1000
