-- Marketing channels by rules (docs/channels.md). Each loaded sheet is a new
-- version of rows; the newest version is in force and older ones stay as the
-- history of rule changes. Patterns are ClickHouse ILIKE patterns, made from
-- the sheet's * wildcards by gateway/channels; an empty array matches anything.
CREATE TABLE IF NOT EXISTS channel_rules
(
    version           UInt64,
    ord               UInt32,
    line              UInt32,
    channel           String,
    subchannel        String,
    campaign          Array(String),
    medium            Array(String),
    source            Array(String),
    landing_page      Array(String),
    referring_website Array(String),
    click_id          Array(String),
    sheet_hash        String,
    sheet_source      String,
    loaded_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (version, ord);

-- The sheet in force, in order.
CREATE VIEW IF NOT EXISTS channel_sheet AS
SELECT ord, line, channel, subchannel, campaign, medium, source, landing_page, referring_website, click_id, sheet_source, loaded_at
FROM channel_rules
WHERE version = (SELECT max(version) FROM channel_rules)
ORDER BY ord;

-- The sessions view, now classified by the sheet in force (first matching
-- row wins; no match → Other), with Marketo Measure's Touchpoint Source and
-- Medium for a web session (domain-facts §2.2):
--   source: the ad platform for a click id; the engine for organic search;
--           utm_source; the referring host; else "Web Direct".
--   medium: "CPC" for a click id; utm_medium; else organic / social /
--           email / display / referral / direct from the channel.
CREATE OR REPLACE VIEW sessions AS
WITH
    (
        -- sorted by ord: groupArray alone does not promise an order
        SELECT arraySort(groupArray(CAST((ord, channel, subchannel, campaign, medium, source, landing_page, referring_website, click_id),
            'Tuple(ord UInt32, channel String, subchannel String, campaign Array(String), medium Array(String), source Array(String), landing_page Array(String), referring_website Array(String), click_id Array(String))')))
        FROM channel_sheet
    ) AS rules
SELECT
    site, uid, session_id, session_start, session_end, pageviews, events,
    landing_page, landing_page_raw, referrer_page, referrer_host,
    utm_source, utm_medium, utm_campaign, utm_content, utm_term,
    gclid, gbraid, wbraid, msclkid, fbclid, ttclid, li_fat_id, twclid,
    arrayFirst(r ->
            (empty(r.campaign) OR arrayExists(p -> utm_campaign ILIKE p, r.campaign))
        AND (empty(r.medium) OR arrayExists(p -> utm_medium ILIKE p, r.medium))
        AND (empty(r.source) OR arrayExists(p -> utm_source ILIKE p, r.source))
        AND (empty(r.landing_page) OR arrayExists(p -> landing_page_bare ILIKE p, r.landing_page))
        AND (empty(r.referring_website) OR arrayExists(p -> referrer_host ILIKE p, r.referring_website))
        AND (empty(r.click_id) OR hasAny(click_ids, r.click_id)),
        rules) AS rule,
    if(rule.channel = '', 'Other', rule.channel) AS marketing_channel,
    if(rule.subchannel = '', marketing_channel, concat(marketing_channel, '.', rule.subchannel)) AS marketing_channel_path,
    multiIf(
        gclid != '' OR gbraid != '' OR wbraid != '', 'Google AdWords',
        msclkid != '', 'Bing Ads',
        fbclid != '', 'Facebook',
        li_fat_id != '', 'LinkedIn',
        ttclid != '', 'TikTok',
        twclid != '', 'X',
        marketing_channel = 'Organic Search' AND rule.subchannel != '', rule.subchannel,
        utm_source != '', utm_source,
        referrer_host != '', referrer_host,
        'Web Direct') AS touchpoint_source,
    multiIf(
        notEmpty(click_ids), 'CPC',
        utm_medium != '', utm_medium,
        marketing_channel = 'Organic Search', 'organic',
        marketing_channel = 'Social', 'social',
        marketing_channel = 'Email', 'email',
        marketing_channel = 'Display', 'display',
        marketing_channel = 'Direct', 'direct',
        referrer_host != '', 'referral',
        '') AS medium
FROM
(
    SELECT
        site, uid, session_id,
        min(session_start) AS session_start,
        max(session_end) AS session_end,
        uniqExactMerge(pageview_ids) AS pageviews,
        uniqExactMerge(event_ids) AS events,
        argMinMerge(first_page) AS fp,
        cutQueryStringAndFragment(fp.url) AS landing_page,
        fp.url AS landing_page_raw,
        replaceRegexpOne(landing_page, '^https?://', '') AS landing_page_bare,
        fp.referrer AS referrer_page,
        fp.referrer_host AS referrer_host,
        fp.utm_source AS utm_source,
        fp.utm_medium AS utm_medium,
        fp.utm_campaign AS utm_campaign,
        fp.utm_content AS utm_content,
        fp.utm_term AS utm_term,
        fp.gclid AS gclid,
        fp.gbraid AS gbraid,
        fp.wbraid AS wbraid,
        fp.msclkid AS msclkid,
        fp.fbclid AS fbclid,
        fp.ttclid AS ttclid,
        fp.li_fat_id AS li_fat_id,
        fp.twclid AS twclid,
        arrayFilter(x -> x != '', [if(fp.gclid != '', 'gclid', ''), if(fp.gbraid != '', 'gbraid', ''),
            if(fp.wbraid != '', 'wbraid', ''), if(fp.msclkid != '', 'msclkid', ''), if(fp.fbclid != '', 'fbclid', ''),
            if(fp.ttclid != '', 'ttclid', ''), if(fp.li_fat_id != '', 'li_fat_id', ''), if(fp.twclid != '', 'twclid', '')]) AS click_ids
    FROM sessions_agg
    GROUP BY site, uid, session_id
);
