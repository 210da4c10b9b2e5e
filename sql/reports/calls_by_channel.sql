-- calls_by_channel: phone calls per day or week ({grain}), marketing channel,
-- touchpoint source and campaign. Every call counts: a call without a visitor
-- id has no touchpoint and shows as channel "(no visitor id)".
SELECT
    if({grain:String} = 'week', toMonday(m.call_time), toDate(m.call_time)) AS period,
    if(m.verdict = 'no_bizible_id', '(no visitor id)', t.marketing_channel) AS marketing_channel,
    if(m.verdict = 'no_bizible_id', '', t.touchpoint_source) AS touchpoint_source,
    if(m.verdict = 'no_bizible_id', '', t.ad_campaign_name) AS ad_campaign_name,
    count() AS calls,
    countIf(m.verdict = 'merged') AS merged
FROM call_matches AS m
LEFT JOIN touchpoints AS t ON t.touchpoint_id = m.touchpoint_id
WHERE toDate(m.call_time) BETWEEN {from:Date} AND {to:Date}
GROUP BY period, marketing_channel, touchpoint_source, ad_campaign_name
ORDER BY period, calls DESC, marketing_channel
