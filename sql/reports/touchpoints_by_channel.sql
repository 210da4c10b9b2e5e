-- touchpoints_by_channel: touchpoints per marketing channel and touchpoint type.
SELECT marketing_channel, touchpoint_type, count() AS touchpoints
FROM touchpoints
WHERE toDate(touchpoint_date) BETWEEN {from:Date} AND {to:Date}
GROUP BY marketing_channel, touchpoint_type
ORDER BY touchpoints DESC, marketing_channel, touchpoint_type
