-- The systems outside the cluster that trust its CAPF certificates to judge phones' LSCs (issue
-- 16): an 802.1X server (FreeRADIUS, ISE), a VPN head-end (ASA). What each was given (an export:
-- which certificates, when, in which format) and whether the administrator confirmed it applied
-- are what the CAPF rollover and the guarded `trust remove` of an old CAPF certificate read.
CREATE TABLE trust_consumers (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('freeradius', 'ise', 'asa', 'other')),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- One export written for a consumer. `confirmed_at` is set when the administrator (`consumer
-- confirm`) or a live check (`consumer check`) says the consumer runs with it.
CREATE TABLE consumer_exports (
    id           INTEGER PRIMARY KEY,
    consumer     TEXT NOT NULL REFERENCES trust_consumers (name) ON DELETE CASCADE,
    format       TEXT NOT NULL,
    exported_at  TEXT NOT NULL,
    exported_by  TEXT NOT NULL,
    confirmed_at TEXT,
    confirmed_by TEXT
);
CREATE INDEX consumer_exports_consumer ON consumer_exports (consumer, id);

-- The certificates one export held (CA certificates, by SHA-256 fingerprint).
CREATE TABLE consumer_export_certificates (
    export_id   INTEGER NOT NULL REFERENCES consumer_exports (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    subject     TEXT NOT NULL,
    not_after   TEXT NOT NULL,
    PRIMARY KEY (export_id, fingerprint)
);
