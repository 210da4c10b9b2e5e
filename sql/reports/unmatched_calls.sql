-- unmatched_calls: calls that were not merged into a web session, by
-- verdict, newest first, with what to do about each kind.
SELECT
    m.task_id AS task_id, m.call_time AS call_time, m.verdict AS verdict, m.task_type AS task_type,
    m.uid AS uid, m.minutes_from_session_start AS minutes_from_session_start,
    multiIf(
        m.verdict = 'no_bizible_id', 'No visitor id on the call: escalate to the call-tracking provider (it must send _biz_uid).',
        m.verdict = 'no_session', 'No web session of this visitor before the call: a separate CRM Activity touchpoint was made.',
        'The session started more than the window before the call: a separate CRM Activity touchpoint was made.') AS what_it_means
FROM call_matches AS m
WHERE m.verdict != 'merged' AND toDate(m.call_time) BETWEEN {from:Date} AND {to:Date}
ORDER BY m.call_time DESC, m.task_id
LIMIT 1000
