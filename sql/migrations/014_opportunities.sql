-- Opportunities (contract §5), Salesforce-style: one row per opportunity,
-- from POST /v1/opportunities or `calltrail import opportunities`. The same Id
-- again is a new row with a higher version; readers use FINAL (latest wins).
-- The person an opportunity belongs to is found through contact_id (matched
-- to Tasks' WhoId) or the email's hash (matched to forms and identify calls);
-- see the attribution migration.
CREATE TABLE IF NOT EXISTS opportunities
(
    opportunity_id String,
    name           String,
    amount         Float64,
    stage_name     String,
    created_date   DateTime64(3, 'UTC'),
    close_date     Nullable(DateTime64(3, 'UTC')),
    is_won         UInt8,
    is_closed      UInt8,
    contact_id     String,                   -- ContactId, else WhoId
    email_hash     String,                   -- sha256 of the trimmed, lower-cased Email
    email          String,                   -- the Email itself, only when the operator opts in
    source         LowCardinality(String),   -- opportunities_api, csv
    properties     String,                   -- JSON: every other field
    received_at    DateTime64(3, 'UTC'),
    version        UInt64                    -- LastModifiedDate / SystemModstamp, else receive time (ns)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY opportunity_id;
