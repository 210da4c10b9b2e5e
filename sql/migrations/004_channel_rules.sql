-- Marketing channels by rules (docs/channels.md). Each loaded sheet is a new
-- version of rows; the newest version is in force and older ones stay as the
-- history of rule changes. Patterns are ClickHouse ILIKE patterns, made from
-- the sheet's * wildcards by gateway/channels; an empty array matches anything.
-- gateway/channels turns the sheet in force into the `sessions` view
-- (sql/views/sessions.sql): constant patterns, compiled once per query.
CREATE TABLE IF NOT EXISTS channel_rules
(
    version           UInt64,
    ord               UInt32,
    line              UInt32,
    channel           String,
    subchannel        String,
    campaign          Array(String),
    medium            Array(String),
    source            Array(String),
    landing_page      Array(String),
    referring_website Array(String),
    click_id          Array(String),
    sheet_hash        String,
    sheet_source      String,
    loaded_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (version, ord);

-- The sheet in force, in order.
CREATE VIEW IF NOT EXISTS channel_sheet AS
SELECT ord, line, channel, subchannel, campaign, medium, source, landing_page, referring_website, click_id, sheet_source, loaded_at
FROM channel_rules
WHERE version = (SELECT max(version) FROM channel_rules)
ORDER BY ord;
