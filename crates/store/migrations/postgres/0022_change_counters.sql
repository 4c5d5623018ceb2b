-- SQLite's per-topic change counters (sqlite/0022); PostgreSQL notifies per topic already
-- (0016). This file keeps the version numbers of both folders the same.
SELECT 1;
