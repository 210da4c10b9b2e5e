-- events_raw as the durable queue (gateway/spool) needs it.
--
-- Parts are fsynced when written: the queue forgets a batch once ClickHouse
-- has confirmed it, so a confirmed batch must survive a power loss too,
-- not only a killed process (ClickHouse does not fsync parts by default).
-- One fsync per insert; the queue inserts about once a second.
--
-- Parts stay compact (one data file) up to 1 GiB. Merging wide parts
-- opened a ~1 MiB read buffer per column of every part merged: with ~40
-- columns a merge took 200-240 MB under load, half the gateway's memory;
-- compact parts merge through one buffer per part (~80 MB).
ALTER TABLE events_raw MODIFY SETTING
    fsync_after_insert = 1, fsync_part_directory = 1,
    min_bytes_for_wide_part = 1073741824, min_rows_for_wide_part = 0;

-- The sessions the same inserts feed: fsynced alike, so that a power loss
-- cannot keep an event and lose its session.
ALTER TABLE sessions_agg MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1;
