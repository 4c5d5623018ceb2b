-- PostgreSQL twin of sqlite/0018_sealed_keys.sql.
CREATE TABLE sealed_keys (
    name       TEXT COLLATE "C" PRIMARY KEY,
    sealed     BYTEA NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
