-- Raw events as the gateway accepted them, one row per event id. A client
-- that retries a batch it could not confirm sends the same ids again; the
-- ReplacingMergeTree keeps one row per (site, uid, event_id) and the `events`
-- view reads it with FINAL, so readers never see a duplicate.
-- non_replicated_deduplication_window lets a retried insert of the same batch
-- (same insert_deduplication_token) be dropped before it lands at all.
CREATE TABLE IF NOT EXISTS events_raw
(
    event_id      UUID,
    site          LowCardinality(String),
    uid           String,
    session_id    String,
    type          LowCardinality(String),
    name          String,
    event_time    DateTime64(3, 'UTC'),
    received_at   DateTime64(3, 'UTC'),
    url           String,
    hostname      String,
    path          String,
    referrer      String,
    referrer_host String,
    title         String,
    utm_source    String,
    utm_medium    String,
    utm_campaign  String,
    utm_content   String,
    utm_term      String,
    gclid         String,
    gbraid        String,
    wbraid        String,
    msclkid       String,
    fbclid        String,
    ttclid        String,
    li_fat_id     String,
    twclid        String,
    form          String,
    email_hash    String,
    email         String,   -- only when the operator opts in (--store-emails)
    props         String,
    user_agent    String,
    browser       LowCardinality(String),
    os            LowCardinality(String),
    device        LowCardinality(String),
    is_bot        UInt8,
    source        LowCardinality(String),
    INDEX event_time_idx event_time TYPE minmax GRANULARITY 4
)
ENGINE = ReplacingMergeTree
ORDER BY (site, uid, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE VIEW IF NOT EXISTS events AS
SELECT * FROM events_raw FINAL;
