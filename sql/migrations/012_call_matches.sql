-- call_matches (contract §7): one row per call with its verdict. A query-time
-- view over call_tasks FINAL and the sessions, so the order in which a call
-- and its session's events arrive does not matter: a call stored before its
-- visit's events is merged in the first query after those events land.
--
-- The session considered (docs/calls.md, "Which session"):
--   before  the visitor's latest session that started at or before the call;
--   early   the visitor's first session that started after the call, at most
--           early_tolerance_minutes after it (a provider clock running behind).
-- `before` is the one when the call falls within its window; `early` only when
-- it does not (there is no `before`, or it is too old) and there is an `early`
-- one; otherwise `before`, too old, or none. So a call at 12:10 between an ad
-- session at 12:00 and a referral session at 12:11 is merged into 12:00, and a
-- call at 12:40 after a session at 12:00 and before one at 12:41 into 12:41.
-- Each is one ASOF join (the nearest session on each side of the call), never
-- a join over all of a visitor's sessions.
--
-- Then:
--   no_bizible_id   the call carries no valid _biz_uid
--   no_session      no `before` session and no `early` one
--   merged          call − anchor ≤ window (anchor: session start, or the
--                   session's last page view or form submit, per
--                   match_settings); an `early` session always merges
--   outside_window  otherwise
-- session_id / session_start / minutes_from_session_start describe the session
-- considered: the matched one for `merged`, the one that was too old for
-- `outside_window`. `site` is the matched session's site, '' when not merged
-- (calls carry no site of their own).

-- A session's bounds for the join, read from sessions_agg directly (the join
-- needs no channel classification), only for visitors who have a call.
-- last_activity is the last page view or form submit, or the start when the
-- session has none (yet).
CREATE VIEW IF NOT EXISTS call_session_bounds AS
SELECT site, uid, session_id, session_start, greatest(session_start, last_page_or_form) AS last_activity
FROM
(
    SELECT site, uid, session_id, min(session_start) AS session_start, max(last_activity) AS last_page_or_form
    FROM sessions_agg
    WHERE uid IN (SELECT uid FROM call_tasks WHERE uid != '')
    GROUP BY site, uid, session_id
);

CREATE VIEW IF NOT EXISTS call_matches AS
SELECT
    task_id,
    if(verdict = 'merged', s_site, '') AS site,
    uid, call_time, task_type,
    s_session_id AS session_id,
    if(s_session_id = '', NULL, s_start) AS session_start,
    if(s_session_id = '', NULL,
       round((toUnixTimestamp64Milli(call_time) - toUnixTimestamp64Milli(s_start)) / 60000, 2))
        AS minutes_from_session_start,
    multiIf(
        uid = '', 'no_bizible_id',
        s_session_id = '', 'no_session',
        toUnixTimestamp64Milli(call_time)
            - toUnixTimestamp64Milli(if(anchor = 'last_activity', s_last, s_start))
            <= toInt64(window_minutes) * 60000, 'merged',
        'outside_window') AS verdict,
    if(verdict = 'no_bizible_id', '', lower(hex(MD5(concat('call:', task_id))))) AS touchpoint_id,
    concat(anchor, ' + ', toString(window_minutes), ' min (', toString(early_tolerance_minutes), ' min early allowed)') AS rule,
    -- more than the contract's columns, for explain and for analysts
    anchor, window_minutes, early_tolerance_minutes,
    s_site AS session_site,
    if(s_session_id = '', NULL, s_last) AS session_last_activity,
    if(s_session_id = '', NULL,
       round((toUnixTimestamp64Milli(call_time) - toUnixTimestamp64Milli(s_last)) / 60000, 2))
        AS minutes_from_last_activity,
    subject, bizible_id, source, call_time_from
FROM
(
    SELECT
        cb.task_id AS task_id, cb.uid AS uid, cb.call_time AS call_time, cb.task_type AS task_type,
        cb.subject AS subject, cb.bizible_id AS bizible_id, cb.source AS source, cb.call_time_from AS call_time_from,
        cb.window_minutes AS window_minutes, cb.anchor AS anchor, cb.early_tolerance_minutes AS early_tolerance_minutes,
        cb.b_session_id != '' AND
            toUnixTimestamp64Milli(cb.call_time)
                - toUnixTimestamp64Milli(if(cb.anchor = 'last_activity', cb.b_last, cb.b_start))
                <= toInt64(cb.window_minutes) * 60000 AS before_in_window,
        e.session_id != '' AND e.session_start <= cb.call_time + toIntervalMinute(cb.early_tolerance_minutes) AS early_in_tolerance,
        before_in_window OR NOT early_in_tolerance AS take_before,
        if(take_before, cb.b_site, e.site) AS s_site,
        if(take_before, cb.b_session_id, e.session_id) AS s_session_id,
        if(take_before, cb.b_start, e.session_start) AS s_start,
        if(take_before, cb.b_last, e.last_activity) AS s_last
    FROM
    (
        -- each call with the settings in force and its `before` session
        SELECT
            c.task_id AS task_id, c.uid AS uid, c.call_time AS call_time, c.task_type AS task_type,
            c.subject AS subject, c.bizible_id AS bizible_id, c.source AS source, c.call_time_from AS call_time_from,
            c.window_minutes AS window_minutes, c.anchor AS anchor, c.early_tolerance_minutes AS early_tolerance_minutes,
            b.site AS b_site, b.session_id AS b_session_id, b.session_start AS b_start, b.last_activity AS b_last
        FROM
        (
            SELECT
                t.task_id AS task_id, t.uid AS uid, t.call_time AS call_time, t.task_type AS task_type,
                t.subject AS subject, t.bizible_id AS bizible_id, t.source AS source, t.call_time_from AS call_time_from,
                st.window_minutes AS window_minutes, st.anchor AS anchor, st.early_tolerance_minutes AS early_tolerance_minutes
            FROM call_tasks AS t FINAL
            CROSS JOIN match_settings_current AS st
        ) AS c
        ASOF LEFT JOIN call_session_bounds AS b
            ON c.uid = b.uid AND c.call_time >= b.session_start
    ) AS cb
    -- and its `early` one: the first session that started after it
    ASOF LEFT JOIN call_session_bounds AS e
        ON cb.uid = e.uid AND cb.call_time < e.session_start
);
