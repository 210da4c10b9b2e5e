-- A Task's WhoId (the CRM Lead or Contact a call was logged on) is an identity
-- key too: two browsers whose calls were logged on the same Contact are one
-- person. call_tasks exists only from migration 010, hence this redefinition
-- of the view from 005.
CREATE OR REPLACE VIEW identity_links AS
SELECT DISTINCT uid, concat('email:', email_hash) AS key
FROM events_raw
WHERE email_hash != '' AND is_bot = 0
UNION ALL
SELECT DISTINCT uid, concat('lead:', JSONExtractString(props, 'lead_id')) AS key
FROM events_raw
WHERE type = 'identify' AND JSONExtractString(props, 'lead_id') != '' AND is_bot = 0
UNION ALL
SELECT DISTINCT uid, concat('who:', who_id) AS key
FROM call_tasks FINAL
WHERE uid != '' AND who_id != '';
