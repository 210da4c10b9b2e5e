-- Revenue attribution (docs/revenue.md). An opportunity's touchpoints are its
-- person's touchpoints up to the end of the close day (FT and LC always, as
-- Marketo Measure's buyer attribution touchpoints do), with two more
-- positions:
--   OC      the latest touchpoint at or before the opportunity was created
--   Closed  the latest touchpoint on or before the close day, never one
--           before OC (closed opportunities only)

-- The person each opportunity belongs to: through its ContactId/WhoId (a
-- Task's WhoId) or its email (a form's or identify call's); when the keys
-- point at several people, the smallest person_id.
CREATE VIEW IF NOT EXISTS opportunity_persons AS
SELECT o.opportunity_id AS opportunity_id, min(p.person_id) AS person_id
FROM
(
    SELECT opportunity_id, key
    FROM opportunities FINAL
    ARRAY JOIN arrayFilter(k -> k != '', [if(contact_id != '', concat('who:', contact_id), ''),
                                          if(email_hash != '', concat('email:', email_hash), '')]) AS key
) AS o
INNER JOIN identity_links AS l ON l.key = o.key
INNER JOIN persons AS p ON p.uid = l.uid
GROUP BY o.opportunity_id;

-- Each opportunity with its person and the rule for which of the person's
-- touchpoints it counts, read by both opportunity_touchpoints and
-- touchpoints so that attribution and positions never disagree. A
-- touchpoint counts when it is before counts_before:
--   - CloseDate is a date (stored as UTC midnight), so the whole close day
--     counts: the bound is the midnight after it;
--   - and never before the creation, so OC always counts and Closed is never
--     before it (a CloseDate earlier than CreatedDate's UTC day happens when
--     the CRM's day is behind UTC). DateTime64(3): + 1 ms is "at or before".
-- NULL while the opportunity is open (or closed without a CloseDate): every
-- touchpoint counts and there is no Closed touch.
CREATE VIEW IF NOT EXISTS opportunity_scopes AS
SELECT
    o.opportunity_id AS opportunity_id, op.person_id AS person_id, o.amount AS amount,
    o.is_won AS is_won, o.is_closed AS is_closed, o.created_date AS created_date, o.close_date AS close_date,
    if(o.is_closed = 1 AND o.close_date IS NOT NULL,
       greatest(assumeNotNull(o.close_date) + INTERVAL 1 DAY, o.created_date + INTERVAL 1 MILLISECOND),
       NULL) AS counts_before
FROM (SELECT * FROM opportunities FINAL) AS o
INNER JOIN opportunity_persons AS op ON op.opportunity_id = o.opportunity_id;

-- One row per opportunity × touchpoint, with the milestone flags and the
-- touchpoint's rank in time. At the same instant FT, then LC, rank first,
-- as buyer_touchpoints chose them, so a touch tied with LC (a call at the
-- form's millisecond) never counts as one between FT and LC.
CREATE VIEW IF NOT EXISTS opportunity_touchpoints AS
SELECT
    opportunity_id, person_id, amount, is_won, is_closed, created_date, close_date,
    touchpoint_id, touchpoint_date,
    has(positions, 'FT') AS is_ft,
    has(positions, 'LC') AS is_lc,
    touchpoint_id = oc_id AS is_oc,
    touchpoint_id = closed_id AS is_closed_touch,
    row_number() OVER (PARTITION BY opportunity_id ORDER BY touchpoint_date, NOT is_ft, NOT is_lc, touchpoint_id) AS rank
FROM
(
    SELECT
        o.opportunity_id AS opportunity_id, o.person_id AS person_id, o.amount AS amount,
        o.is_won AS is_won, o.is_closed AS is_closed, o.created_date AS created_date, o.close_date AS close_date,
        t.touchpoint_id AS touchpoint_id, t.touchpoint_date AS touchpoint_date,
        splitByString(', ', t.touchpoint_position) AS positions,
        argMaxIf(t.touchpoint_id, (t.touchpoint_date, t.touchpoint_id), t.touchpoint_date <= o.created_date)
            OVER (PARTITION BY o.opportunity_id) AS oc_id,
        argMaxIf(t.touchpoint_id, (t.touchpoint_date, t.touchpoint_id), ifNull(t.touchpoint_date < o.counts_before, 0))
            OVER (PARTITION BY o.opportunity_id) AS closed_id
    FROM opportunity_scopes AS o
    INNER JOIN buyer_touchpoints AS t ON t.person_id = o.person_id
    WHERE ifNull(t.touchpoint_date < o.counts_before, 1) OR has(positions, 'FT') OR has(positions, 'LC')
);

-- attribution (contract §7): opportunity × touchpoint × model → share of the
-- credit and of the revenue. Every model gives each milestone position its
-- weight (a touchpoint holding several positions gets their sum) and splits
-- the middle weight equally over the other touchpoints between the first and
-- the last milestone; then the weights are scaled to sum to 1. So a missing
-- milestone (no OC, an open opportunity's Closed) or an empty middle hands its
-- weight to the others in proportion, and FT = LC under U-shaped is 100%.
--                 FT     LC     OC     Closed middle
--   first_touch   1      0      0      0      0
--   lead_creation 0      1      0      0      0
--   u_shaped      0.4    0.4    0      0      0.2
--   w_shaped      0.3    0.3    0.3    0      0.1
--   full_path     0.225  0.225  0.225  0.225  0.1
--   linear        an equal share for every touchpoint
CREATE VIEW IF NOT EXISTS attribution AS
SELECT
    opportunity_id, touchpoint_id, model, share, share * amount AS revenue,
    amount, is_won, is_closed, person_id
FROM
(
    SELECT *, weight / sum(weight) OVER (PARTITION BY opportunity_id, model) AS share
    FROM
    (
        SELECT *,
            if(model = 'linear', 1, milestone_weight + if(is_middle, middle_weight / countIf(is_middle) OVER (PARTITION BY opportunity_id, model), 0)) AS weight
        FROM
        (
            SELECT *,
                milestone_weight = 0
                    AND rank > minIf(rank, milestone_weight > 0) OVER (PARTITION BY opportunity_id, model)
                    AND rank < maxIf(rank, milestone_weight > 0) OVER (PARTITION BY opportunity_id, model) AS is_middle
            FROM
            (
                SELECT
                    t.*, m.1 AS model, m.6 AS middle_weight,
                    t.is_ft * m.2 + t.is_lc * m.3 + t.is_oc * m.4 + t.is_closed_touch * m.5 AS milestone_weight
                FROM opportunity_touchpoints AS t
                ARRAY JOIN [
                    ('first_touch', 1., 0., 0., 0., 0.),
                    ('lead_creation', 0., 1., 0., 0., 0.),
                    ('u_shaped', .4, .4, 0., 0., .2),
                    ('w_shaped', .3, .3, .3, 0., .1),
                    ('full_path', .225, .225, .225, .225, .1),
                    ('linear', 0., 0., 0., 0., 0.)] AS m
            )
        )
    )
)
WHERE weight > 0;

-- touchpoints (contract §7): the buyer touchpoints, with OC and Closed added
-- to touchpoint_position where a touchpoint holds them for any of its
-- person's opportunities. Computed in one pass over buyer_touchpoints (not
-- through opportunity_touchpoints, which would compute them a second time).
CREATE VIEW IF NOT EXISTS touchpoints AS
SELECT
    touchpoint_id, any(site) AS site, any(uid) AS uid, any(person_id) AS person_id,
    any(touchpoint_date) AS touchpoint_date, any(touchpoint_type) AS touchpoint_type,
    any(touchpoint_source) AS touchpoint_source, any(medium) AS medium,
    any(marketing_channel) AS marketing_channel, any(marketing_channel_path) AS marketing_channel_path,
    any(ad_campaign_name) AS ad_campaign_name, any(ad_content) AS ad_content, any(keyword_text) AS keyword_text,
    any(landing_page) AS landing_page, any(landing_page_raw) AS landing_page_raw, any(referrer_page) AS referrer_page,
    any(form_url) AS form_url,
    arrayStringConcat(arrayFilter(p -> p != '', [any(bt_position), if(max(is_oc), 'OC', ''), if(max(is_closed_touch), 'Closed', '')]), ', ')
        AS touchpoint_position,
    any(session_id) AS session_id, any(task_id) AS task_id, any(touchpoint_kind) AS touchpoint_kind, any(form_url_raw) AS form_url_raw
FROM
(
    SELECT
        b.*, b.touchpoint_position AS bt_position,
        -- the same expressions as opportunity_touchpoints' oc_id and closed_id
        o.opportunity_id != '' AND b.touchpoint_id = argMaxIf(b.touchpoint_id, (b.touchpoint_date, b.touchpoint_id), b.touchpoint_date <= o.created_date)
            OVER (PARTITION BY o.opportunity_id) AS is_oc,
        o.opportunity_id != '' AND b.touchpoint_id = argMaxIf(b.touchpoint_id, (b.touchpoint_date, b.touchpoint_id), ifNull(b.touchpoint_date < o.counts_before, 0))
            OVER (PARTITION BY o.opportunity_id) AS is_closed_touch
    FROM buyer_touchpoints AS b
    LEFT JOIN opportunity_scopes AS o ON o.person_id = b.person_id
)
GROUP BY touchpoint_id;
