-- People, not just browsers (docs/identity.md). A person is every uid joined,
-- directly or through others, by an identity key: the hash of an email given
-- in a form or an identify call, a CRM lead id from identify, or the WhoId (the
-- CRM Lead or Contact) a call's Task was logged on. person_id is
-- the smallest uid of the group, so it is stable until a group merges with
-- another. A uid with no key is its own person (the views that use this one
-- fall back to the uid).
CREATE VIEW IF NOT EXISTS identity_links AS
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

-- Connected uids by label propagation: each round, every key takes the
-- smallest label of its uids and every uid the smallest label of its keys.
-- Three rounds join any chain of up to eight browsers, far beyond real
-- journeys (a laptop, a phone, a work machine).
CREATE VIEW IF NOT EXISTS persons AS
WITH
    k1 AS (SELECT key, min(uid) AS label FROM identity_links GROUP BY key),
    u1 AS (SELECT l.uid AS uid, min(k.label) AS label FROM identity_links AS l INNER JOIN k1 AS k ON l.key = k.key GROUP BY l.uid),
    k2 AS (SELECT l.key AS key, min(u.label) AS label FROM identity_links AS l INNER JOIN u1 AS u ON l.uid = u.uid GROUP BY l.key),
    u2 AS (SELECT l.uid AS uid, min(k.label) AS label FROM identity_links AS l INNER JOIN k2 AS k ON l.key = k.key GROUP BY l.uid),
    k3 AS (SELECT l.key AS key, min(u.label) AS label FROM identity_links AS l INNER JOIN u2 AS u ON l.uid = u.uid GROUP BY l.key),
    u3 AS (SELECT l.uid AS uid, min(k.label) AS label FROM identity_links AS l INNER JOIN k3 AS k ON l.key = k.key GROUP BY l.uid)
SELECT uid, label AS person_id
FROM u3;
