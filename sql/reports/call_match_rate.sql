-- call_match_rate: calls per verdict and their share of all calls.
SELECT verdict, count() AS calls, round(calls / sum(calls) OVER (), 4) AS share
FROM call_matches
WHERE toDate(call_time) BETWEEN {from:Date} AND {to:Date}
GROUP BY verdict
ORDER BY calls DESC
