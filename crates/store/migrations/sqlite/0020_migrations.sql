-- Cluster migrations (issue 16): phones moving from another cluster to this one, as
-- `opencapf migrate` guides them. One row per migration; at most one in progress
-- (`in_progress` is 1 while it runs, NULL once finished: UNIQUE allows any number of NULLs).
-- `bundle` is the newest bundle read from the old cluster (`opencapf cluster export-bundle`,
-- JSON, public certificates only); `migrate refresh` replaces it. Times are RFC 3339 UTC.
CREATE TABLE migrations (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    remedy      TEXT NOT NULL,
    bundle      TEXT NOT NULL,
    bundle_at   TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    finished_at TEXT,
    finished_by TEXT,
    forced      INTEGER NOT NULL DEFAULT 0,
    in_progress INTEGER UNIQUE
);

-- Steps done on the old cluster, which this cluster cannot see: the administrator confirms them.
CREATE TABLE migration_confirmations (
    migration_id INTEGER NOT NULL REFERENCES migrations (id),
    step         TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    confirmed_by TEXT NOT NULL,
    PRIMARY KEY (migration_id, step)
);
