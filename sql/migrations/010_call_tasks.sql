-- Calls, one Task-shaped row per call (docs/calls.md). Every way a call comes
-- in (a provider's webhook, POST /v1/tasks, `calltrail import tasks`) ends
-- here. task_id is `{provider}:{provider call id}` for webhooks and the Task's
-- Id for CRM records. A redelivery or a later version of the same call (CallRail
-- "call modified", an edited Task) is a new row with the same task_id and a
-- higher version; readers use FINAL, so one call is always one row, the
-- latest.
CREATE TABLE IF NOT EXISTS call_tasks
(
    task_id          String,
    source           LowCardinality(String),   -- ctm, callrail, invoca, tasks_api, csv
    provider_call_id String,
    -- Salesforce Task fields
    task_type        String,                   -- Task.Type: Touchpoint Type and Medium
    subject          String,
    created_date     Nullable(DateTime64(3, 'UTC')),
    activity_date    Nullable(Date32),
    call_duration_s  Nullable(Int64),
    call_type        String,                   -- Inbound / Outbound / Internal
    who_id           String,
    bizible_id       String,                   -- bizible2__BizibleId__c as given
    uid              String,                   -- bizible_id when it is a valid _biz_uid, else ''
    uid_source       String,                   -- where the id was found, e.g. custom_fields._biz_uid
    touchpoint_date  Nullable(DateTime64(3, 'UTC')), -- bizible2__Bizible_Touchpoint_Date__c
    start_time       Nullable(DateTime64(3, 'UTC')), -- the provider's call start
    -- the time the join uses: start_time, else touchpoint_date, else created_date
    call_time        DateTime64(3, 'UTC'),
    call_time_from   LowCardinality(String),
    phone            String,
    tracking_number  String,
    properties       String,                   -- JSON: every other field, or the provider's payload
    received_at      DateTime64(3, 'UTC'),
    version          UInt64                    -- latest wins: modification time, else receive time (ns)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY task_id;

-- How a call is matched to a session. `calltrail serve` appends a row when its
-- flags differ from the latest; the views read the latest row at query time,
-- so a change applies to every call at once, without rewriting any data.
CREATE TABLE IF NOT EXISTS match_settings
(
    window_minutes          UInt32,
    anchor                  LowCardinality(String),  -- session_start | last_activity
    early_tolerance_minutes UInt32,
    set_at                  DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY set_at;

-- The settings in force: the latest row, or the source document's rule
-- (30 minutes from the session start, 2 minutes early allowed) when none.
CREATE VIEW IF NOT EXISTS match_settings_current AS
SELECT
    if(count() = 0, toUInt32(30), argMax(window_minutes, set_at)) AS window_minutes,
    if(count() = 0, 'session_start', toString(argMax(anchor, set_at))) AS anchor,
    if(count() = 0, toUInt32(2), argMax(early_tolerance_minutes, set_at)) AS early_tolerance_minutes
FROM match_settings;
