-- Sessions, maintained incrementally from events_raw as each batch lands.
-- The session id is made by the site script (cookie _biz_sid, rules in
-- docs/sessions.md), so a session's events may arrive in any number of
-- batches, in any order: every column is an aggregate that gives the same
-- answer whatever the split (min, max, argMin, uniqExact over event ids), and
-- a duplicate event id changes nothing. Bots make no sessions.
--
-- session_end is the latest event of any type (an identify or custom event
-- too). last_activity is the latest page view or form submit: what ends a
-- session after 30 minutes (docs/sessions.md) and what a call's window counts
-- from under the last_activity anchor (docs/calls.md). A batch with neither
-- writes 1970-01-01, which max() never picks over a real one; readers fall
-- back to session_start for a session that has none yet.
CREATE TABLE IF NOT EXISTS sessions_agg
(
    site          LowCardinality(String),
    uid           String,
    session_id    String,
    session_start SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    session_end   SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    last_activity SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    pageview_ids  AggregateFunction(uniqExact, UUID),
    event_ids     AggregateFunction(uniqExact, UUID),
    first_page    AggregateFunction(argMin, Tuple(
                      url String, referrer String, referrer_host String,
                      utm_source String, utm_medium String, utm_campaign String,
                      utm_content String, utm_term String,
                      gclid String, gbraid String, wbraid String, msclkid String,
                      fbclid String, ttclid String, li_fat_id String, twclid String),
                  DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (site, uid, session_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_mv TO sessions_agg AS
SELECT
    site, uid, session_id,
    min(event_time) AS session_start,
    max(event_time) AS session_end,
    maxIf(event_time, type IN ('page_view', 'form_submit')) AS last_activity,
    uniqExactStateIf(event_id, type = 'page_view') AS pageview_ids,
    uniqExactState(event_id) AS event_ids,
    argMinStateIf(
        CAST((url, referrer, referrer_host, utm_source, utm_medium, utm_campaign, utm_content, utm_term,
              gclid, gbraid, wbraid, msclkid, fbclid, ttclid, li_fat_id, twclid),
             'Tuple(url String, referrer String, referrer_host String, utm_source String, utm_medium String, utm_campaign String, utm_content String, utm_term String, gclid String, gbraid String, wbraid String, msclkid String, fbclid String, ttclid String, li_fat_id String, twclid String)'),
        event_time, type = 'page_view') AS first_page
FROM events_raw
WHERE is_bot = 0 AND session_id != ''
GROUP BY site, uid, session_id;
