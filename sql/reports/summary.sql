-- summary: the headline numbers of the period.
SELECT
    (SELECT count() FROM sessions WHERE toDate(session_start) BETWEEN {from:Date} AND {to:Date}) AS sessions,
    (SELECT uniqExact(uid) FROM sessions WHERE toDate(session_start) BETWEEN {from:Date} AND {to:Date}) AS visitors,
    (SELECT count() FROM touchpoints WHERE toDate(touchpoint_date) BETWEEN {from:Date} AND {to:Date}) AS touchpoints,
    (SELECT count() FROM call_matches WHERE toDate(call_time) BETWEEN {from:Date} AND {to:Date}) AS calls,
    (SELECT countIf(verdict = 'merged') FROM call_matches WHERE toDate(call_time) BETWEEN {from:Date} AND {to:Date}) AS calls_merged,
    if(calls = 0, 0, round(calls_merged / calls, 4)) AS call_match_rate,
    (SELECT round(sumIf(amount, is_won = 1), 2) FROM opportunities FINAL WHERE toDate(created_date) BETWEEN {from:Date} AND {to:Date}) AS revenue_won,
    (SELECT round(sumIf(amount, is_closed = 0), 2) FROM opportunities FINAL WHERE toDate(created_date) BETWEEN {from:Date} AND {to:Date}) AS pipeline
