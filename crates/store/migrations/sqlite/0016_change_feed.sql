-- The change feed (crates/store/src/changes.rs) needs nothing in SQLite: each process polls
-- `PRAGMA data_version`, which moves when another connection commits. This file keeps the
-- version numbers of both folders the same.
SELECT 1;
