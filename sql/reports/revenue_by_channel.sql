-- revenue_by_channel: attributed revenue per marketing channel under each
-- model (or only {model} when given), for opportunities created in the
-- period: won revenue, open pipeline, and how many opportunities.
SELECT
    a.model AS model,
    t.marketing_channel AS marketing_channel,
    round(sumIf(a.revenue, a.is_won = 1), 2) AS revenue_won,
    round(sumIf(a.revenue, a.is_closed = 0), 2) AS pipeline,
    round(sum(a.share), 4) AS opportunities
FROM attribution AS a
INNER JOIN touchpoints AS t ON t.touchpoint_id = a.touchpoint_id
INNER JOIN (SELECT opportunity_id, created_date FROM opportunities FINAL) AS o ON o.opportunity_id = a.opportunity_id
WHERE toDate(o.created_date) BETWEEN {from:Date} AND {to:Date}
  AND ({model:String} = '' OR a.model = {model:String})
GROUP BY model, marketing_channel
ORDER BY model, revenue_won DESC, pipeline DESC, marketing_channel
