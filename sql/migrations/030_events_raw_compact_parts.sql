-- Keep events_raw's parts compact (one data file per part) up to 1 GiB.
-- A wide part has a file per column, and merging wide parts opens a read
-- buffer (~1 MiB) per column of every part merged at once: with ~40
-- columns that took 200-240 MB of memory per merge under load, half the
-- gateway's memory. Compact parts merge through one buffer per part.
ALTER TABLE events_raw MODIFY SETTING min_bytes_for_wide_part = 1073741824, min_rows_for_wide_part = 0;
