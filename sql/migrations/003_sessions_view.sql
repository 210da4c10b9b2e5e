-- The `sessions` view analysts rely on (contract §7): one row per session,
-- fields from its first page view. landing_page drops the query string and
-- fragment; landing_page_raw keeps them.
-- marketing_channel here is a built-in first classification (click ids, UTM
-- medium, referrer host); the rule sheet of docs/channels.md replaces it.
CREATE VIEW IF NOT EXISTS sessions AS
SELECT
    site, uid, session_id, session_start, session_end, pageviews, events,
    cutQueryStringAndFragment(fp.url) AS landing_page,
    fp.url AS landing_page_raw,
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
    multiIf(
        fp.gclid != '' OR fp.gbraid != '' OR fp.wbraid != '', ('Paid Search', 'Google'),
        fp.msclkid != '', ('Paid Search', 'Bing'),
        fp.fbclid != '', ('Paid Social', 'Facebook'),
        fp.ttclid != '', ('Paid Social', 'TikTok'),
        fp.li_fat_id != '', ('Paid Social', 'LinkedIn'),
        fp.twclid != '', ('Paid Social', 'X'),
        lower(fp.utm_medium) IN ('cpc', 'ppc', 'paidsearch', 'paid_search'), ('Paid Search', fp.utm_source),
        lower(fp.utm_medium) IN ('paid_social', 'paidsocial'), ('Paid Social', fp.utm_source),
        lower(fp.utm_medium) = 'email', ('Email', fp.utm_source),
        lower(fp.utm_medium) IN ('display', 'banner', 'cpm'), ('Display', fp.utm_source),
        match(fp.referrer_host, '(^|\\.)(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia)\\.'), ('Organic Search', extract(fp.referrer_host, '(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia)')),
        match(fp.referrer_host, '(^|\\.)(facebook|instagram|linkedin|twitter|x|t|reddit|youtube|tiktok|pinterest)\\.(com|co)$'), ('Social', fp.referrer_host),
        lower(fp.utm_medium) = 'social', ('Social', fp.utm_source),
        fp.referrer_host != '', ('Web Referral', fp.referrer_host),
        fp.utm_medium != '' OR fp.utm_source != '', ('Other', fp.utm_source),
        ('Direct', '')
    ) AS channel,
    channel.1 AS marketing_channel,
    if(channel.2 = '', channel.1, concat(channel.1, '.', channel.2)) AS marketing_channel_path
FROM
(
    SELECT
        site, uid, session_id,
        min(session_start) AS session_start,
        max(session_end) AS session_end,
        uniqExactMerge(pageview_ids) AS pageviews,
        uniqExactMerge(event_ids) AS events,
        argMinMerge(first_page) AS fp
    FROM sessions_agg
    GROUP BY site, uid, session_id
);
