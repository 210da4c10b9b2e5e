-- sessions_base: one row per session, the fields of its first page view
-- (landing_page without query string and fragment, landing_page_raw with
-- them). The `sessions` view analysts use adds the marketing channel and
-- Touchpoint Source/Medium on top; it is generated from the channel sheet in
-- force (sql/views/sessions.sql, gateway/channels).
CREATE VIEW IF NOT EXISTS sessions_base AS
SELECT
    site, uid, session_id,
    min(session_start) AS session_start,
    max(session_end) AS session_end,
    uniqExactMerge(pageview_ids) AS pageviews,
    uniqExactMerge(event_ids) AS events,
    argMinMerge(first_page) AS fp,
    cutQueryStringAndFragment(fp.url) AS landing_page,
    fp.url AS landing_page_raw,
    -- An internal referrer is no referrer (Marketo Measure: Direct,
    -- domain-facts §2.5): the landing page's own host, or another host of
    -- its registrable domain (blog.acme.com on www.acme.com; IP addresses
    -- only when equal). The collector sends one on the first hit of a
    -- session that starts after the 30-minute timeout. Decided here, when
    -- read, so sessions and the touchpoints built on them follow one rule,
    -- stored ones too; events keep the referrer as sent.
    fp.referrer_host != '' AND (
        fp.referrer_host = lower(domain(fp.url))
        OR (NOT isIPv4String(fp.referrer_host)
            AND cutToFirstSignificantSubdomain(fp.referrer_host) != ''
            AND cutToFirstSignificantSubdomain(fp.referrer_host) = cutToFirstSignificantSubdomain(lower(domain(fp.url))))) AS internal_referrer,
    if(internal_referrer, '', fp.referrer) AS referrer_page,
    if(internal_referrer, '', fp.referrer_host) AS referrer_host,
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
    -- the click ids present, for the sheet's Click ID column
    arrayFilter(x -> x != '', [if(fp.gclid != '', 'gclid', ''), if(fp.gbraid != '', 'gbraid', ''),
        if(fp.wbraid != '', 'wbraid', ''), if(fp.msclkid != '', 'msclkid', ''), if(fp.fbclid != '', 'fbclid', ''),
        if(fp.ttclid != '', 'ttclid', ''), if(fp.li_fat_id != '', 'li_fat_id', ''), if(fp.twclid != '', 'twclid', '')]) AS click_ids
FROM sessions_agg
GROUP BY site, uid, session_id;
