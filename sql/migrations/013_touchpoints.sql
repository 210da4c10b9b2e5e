-- Touchpoints (contract §7), built at query time from sessions, events and
-- call_matches, in four layers:
--   session_touch_fields  a session's touchpoint fields
--   person_ids            uid → person_id
--   touchpoint_candidates every touchpoint a person could have
--   buyer_touchpoints     positions FT / LC / PostLC per person (the
--                         `touchpoints` view adds OC and Closed from
--                         opportunities, migration 015)

-- Touchpoint fields of a web session: what a touchpoint takes from it.
-- Touchpoint Source, Medium and the marketing channel come from the sessions
-- view (the channel sheet in force and Marketo's field rules, docs/channels.md).
CREATE VIEW IF NOT EXISTS session_touch_fields AS
SELECT
    site, uid, session_id, session_start, session_end,
    landing_page, landing_page_raw, referrer_page,
    marketing_channel, marketing_channel_path,
    utm_campaign AS ad_campaign_name,
    utm_content AS ad_content,
    utm_term AS keyword_text,
    touchpoint_source, medium
FROM sessions;

-- Who a visitor id belongs to: the persons view joins a person's browsers
-- (docs/identity.md); a uid it does not list is its own person.
CREATE VIEW IF NOT EXISTS person_ids AS
SELECT uid, person_id FROM persons;

-- The first form fill and the first chat of each session (Marketo Measure:
-- one form touchpoint per session, the first; a chat is its own kind, so a
-- chat before a form does not take the form's Web Form touchpoint away).
CREATE VIEW IF NOT EXISTS web_conversions AS
SELECT
    site, uid, session_id,
    type AS conversion_type,
    min(event_time) AS converted_at,
    argMin(url, (event_time, event_id)) AS conversion_url
FROM events
WHERE type IN ('form_submit', 'chat') AND is_bot = 0 AND session_id != ''
GROUP BY site, uid, session_id, type;

-- Every touchpoint before positions, one join to the session's fields.
-- touchpoint_kind: call (merged into its session), crm_activity (a call not
-- merged: no web-session data), web_form, web_chat, and web_visit (each uid's
-- first session; `buyer_touchpoints` keeps it only as a person's First Touch, and
-- only when that session has no touchpoint of its own).
CREATE VIEW IF NOT EXISTS touchpoint_candidates AS
SELECT
    k.touchpoint_id AS touchpoint_id,
    k.touchpoint_kind AS touchpoint_kind,
    k.site AS site,
    k.uid AS uid,
    k.touchpoint_date AS touchpoint_date,
    multiIf(k.touchpoint_kind = 'web_form', 'Web Form',
            k.touchpoint_kind = 'web_chat', 'Web Chat',
            k.touchpoint_kind = 'web_visit', 'Web Visit',
            k.task_type = '', 'Web Visit',
            k.task_type) AS touchpoint_type,
    if(k.touchpoint_kind = 'crm_activity', 'CRM Activity', s.touchpoint_source) AS touchpoint_source,
    if(k.touchpoint_kind IN ('call', 'crm_activity'), touchpoint_type, s.medium) AS medium,
    if(k.touchpoint_kind = 'crm_activity', 'Other', s.marketing_channel) AS marketing_channel,
    if(k.touchpoint_kind = 'crm_activity', 'Other', s.marketing_channel_path) AS marketing_channel_path,
    s.ad_campaign_name AS ad_campaign_name,
    if(k.touchpoint_kind = 'crm_activity', k.subject, s.ad_content) AS ad_content,
    s.keyword_text AS keyword_text,
    s.landing_page AS landing_page,
    s.landing_page_raw AS landing_page_raw,
    s.referrer_page AS referrer_page,
    k.form_url AS form_url,
    k.form_url_raw AS form_url_raw,
    k.session_id AS session_id,
    k.task_id AS task_id
FROM
(
    SELECT
        touchpoint_id,
        if(verdict = 'merged', 'call', 'crm_activity') AS touchpoint_kind,
        site, uid,
        if(verdict = 'merged', session_id, '') AS session_id,
        call_time AS touchpoint_date,
        task_type, subject,
        '' AS form_url, '' AS form_url_raw,
        task_id
    FROM call_matches
    WHERE verdict != 'no_bizible_id'

    UNION ALL

    SELECT
        lower(hex(MD5(concat(conversion_type, ':', site, ':', uid, ':', session_id)))) AS touchpoint_id,
        if(conversion_type = 'chat', 'web_chat', 'web_form') AS touchpoint_kind,
        site, uid, session_id,
        converted_at AS touchpoint_date,
        '' AS task_type, '' AS subject,
        cutQueryStringAndFragment(conversion_url) AS form_url, conversion_url AS form_url_raw,
        '' AS task_id
    FROM web_conversions

    UNION ALL

    SELECT
        lower(hex(MD5(concat('visit:', site, ':', uid, ':', session_id)))) AS touchpoint_id,
        'web_visit' AS touchpoint_kind,
        site, uid, session_id,
        session_start AS touchpoint_date,
        '' AS task_type, '' AS subject,
        '' AS form_url, '' AS form_url_raw,
        '' AS task_id
    FROM
    (
        SELECT
            uid,
            argMin(site, (first_hit, sid)) AS site,
            argMin(sid, (first_hit, sid)) AS session_id,
            min(first_hit) AS session_start
        FROM
        (
            SELECT site, uid, session_id AS sid, min(session_start) AS first_hit
            FROM sessions_agg GROUP BY site, uid, session_id
        )
        GROUP BY uid
    )
) AS k
LEFT JOIN session_touch_fields AS s
    ON s.site = k.site AND s.uid = k.uid AND s.session_id = k.session_id;

-- buyer_touchpoints (Marketo Measure's BT): positions per person, in time order (ties: visit, then form or
-- chat, then call). FT is the person's first touchpoint; LC the first
-- conversion (form, chat or call, merged or not); every later conversion is
-- PostLC. A Web Visit is kept only as a First Touch, only for a person with at
-- least one conversion, and only when its session has no touchpoint of its
-- own (then that touchpoint is the session's). A person with no conversion
-- has no touchpoints.
CREATE VIEW IF NOT EXISTS buyer_touchpoints AS
SELECT
    touchpoint_id, site, uid, person_id, touchpoint_date, touchpoint_type, touchpoint_source,
    medium, marketing_channel, marketing_channel_path, ad_campaign_name, ad_content, keyword_text,
    landing_page, landing_page_raw, referrer_page, form_url,
    arrayStringConcat(arrayFilter(p -> p != '', [
        if(touchpoint_id = ft_id, 'FT', ''),
        if(touchpoint_id = lc_id, 'LC', ''),
        if(touchpoint_kind != 'web_visit' AND touchpoint_id != lc_id, 'PostLC', '')]), ', ') AS touchpoint_position,
    session_id, task_id,
    touchpoint_kind, form_url_raw
FROM
(
    SELECT
        *,
        argMin(touchpoint_id, (touchpoint_date, kind_order, touchpoint_id)) OVER (PARTITION BY person_id) AS ft_id,
        argMinIf(touchpoint_id, (touchpoint_date, kind_order, touchpoint_id), touchpoint_kind != 'web_visit')
            OVER (PARTITION BY person_id) AS lc_id
    FROM
    (
        SELECT
            c.*,
            if(p.person_id = '', c.uid, p.person_id) AS person_id,
            multiIf(c.touchpoint_kind = 'web_visit', 0, c.touchpoint_kind IN ('web_form', 'web_chat'), 1, 2) AS kind_order,
            countIf(c.touchpoint_kind != 'web_visit') OVER (PARTITION BY c.site, c.uid, c.session_id) AS session_touchpoints
        FROM touchpoint_candidates AS c
        LEFT JOIN person_ids AS p ON p.uid = c.uid
    )
    WHERE touchpoint_kind != 'web_visit' OR session_touchpoints = 0
)
WHERE lc_id != '' AND (touchpoint_kind != 'web_visit' OR touchpoint_id = ft_id);
