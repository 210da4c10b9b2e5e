-- call_matches (contract §7): one row per call with its verdict. A query-time
-- view over call_tasks FINAL and sessions, so the order in which a call and
-- its session's events arrive does not matter: a call stored before its
-- visit's events is merged in the first query after those events land.
--
-- The session considered is the visitor's latest session that started at or
-- before the call plus the early tolerance (ASOF JOIN). Then:
--   no_bizible_id   the call carries no valid _biz_uid
--   no_session      the visitor has no session that started by then
--   merged          call − anchor ≤ window (anchor: session start, or the
--                   session's last activity, per match_settings)
--   outside_window  otherwise
-- session_id / session_start / minutes_from_session_start describe the session
-- considered: the matched one for `merged`, the one that was too old for
-- `outside_window`. `site` is the matched session's site, '' when not merged
-- (calls carry no site of their own).
CREATE VIEW IF NOT EXISTS call_matches AS
SELECT
    c.task_id AS task_id,
    if(verdict = 'merged', s.site, '') AS site,
    c.uid AS uid,
    c.call_time AS call_time,
    c.task_type AS task_type,
    s.session_id AS session_id,
    if(s.session_id = '', NULL, s.session_start) AS session_start,
    if(s.session_id = '', NULL,
       round((toUnixTimestamp64Milli(c.call_time) - toUnixTimestamp64Milli(s.session_start)) / 60000, 2))
        AS minutes_from_session_start,
    multiIf(
        c.uid = '', 'no_bizible_id',
        s.session_id = '', 'no_session',
        toUnixTimestamp64Milli(c.call_time)
            - toUnixTimestamp64Milli(if(c.anchor = 'last_activity', s.session_end, s.session_start))
            <= toInt64(c.window_minutes) * 60000, 'merged',
        'outside_window') AS verdict,
    if(verdict = 'no_bizible_id', '', lower(hex(MD5(concat('call:', c.task_id))))) AS touchpoint_id,
    concat(c.anchor, ' + ', toString(c.window_minutes), ' min (', toString(c.early_tolerance_minutes), ' min early allowed)') AS rule,
    -- more than the contract's columns, for explain and for analysts
    c.anchor AS anchor,
    c.window_minutes AS window_minutes,
    c.early_tolerance_minutes AS early_tolerance_minutes,
    s.site AS session_site,
    if(s.session_id = '', NULL, s.session_end) AS session_last_activity,
    if(s.session_id = '', NULL,
       round((toUnixTimestamp64Milli(c.call_time) - toUnixTimestamp64Milli(s.session_end)) / 60000, 2))
        AS minutes_from_last_activity,
    c.subject AS subject,
    c.bizible_id AS bizible_id,
    c.source AS source,
    c.call_time_from AS call_time_from
FROM
(
    SELECT
        t.task_id AS task_id, t.uid AS uid, t.call_time AS call_time, t.task_type AS task_type,
        t.subject AS subject, t.bizible_id AS bizible_id, t.source AS source, t.call_time_from AS call_time_from,
        st.window_minutes AS window_minutes, st.anchor AS anchor, st.early_tolerance_minutes AS early_tolerance_minutes,
        t.call_time + toIntervalMinute(st.early_tolerance_minutes) AS latest_start
    FROM call_tasks AS t FINAL
    CROSS JOIN match_settings_current AS st
) AS c
ASOF LEFT JOIN
(
    -- A session's bounds exactly as the sessions view computes them, read
    -- from sessions_agg directly: the join needs no channel classification.
    SELECT site, uid, session_id, min(session_start) AS session_start, max(session_end) AS session_end
    FROM sessions_agg
    GROUP BY site, uid, session_id
) AS s
ON c.uid = s.uid AND c.latest_start >= s.session_start;
