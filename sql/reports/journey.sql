-- journey: one person's sessions, forms, chats, calls and touchpoints in
-- time order. {person} is a person_id or any of the person's uids.
WITH uids AS
(
    SELECT uid FROM persons
    WHERE person_id = (SELECT any(person_id) FROM persons WHERE uid = {person:String} OR person_id = {person:String})
    UNION DISTINCT
    SELECT {person:String} AS uid
)
SELECT at, kind, uid, session_id, title, detail, touchpoint_position
FROM
(
    SELECT session_start AS at, 'session' AS kind, uid, session_id,
           marketing_channel_path AS title,
           concat(landing_page, if(referrer_page = '', '', concat(' from ', referrer_page))) AS detail,
           '' AS touchpoint_position
    FROM sessions WHERE uid IN uids
    UNION ALL
    SELECT event_time, type, uid, session_id,
           if(type = 'form_submit', concat('Form ', form), type), url, ''
    FROM events WHERE uid IN uids AND type IN ('form_submit', 'chat', 'identify')
    UNION ALL
    SELECT call_time, 'call', uid, session_id, concat(task_type, ' (', verdict, ')'), task_id, ''
    FROM call_matches WHERE uid IN uids
    UNION ALL
    SELECT touchpoint_date, 'touchpoint', uid, session_id,
           concat(touchpoint_type, ' · ', marketing_channel_path), touchpoint_source, touchpoint_position
    FROM touchpoints WHERE uid IN uids
)
ORDER BY at, kind
LIMIT 2000
