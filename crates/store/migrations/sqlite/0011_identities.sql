-- The cluster's new identities (issue 11): ITLRecovery (the SAST that signs the ITL) and TVS join
-- the service certificates, Phone-SAST-trust joins the trust stores, a device may name its
-- firmware load, and configuration-file requests from unknown devices are kept.
--
-- SQLite cannot change a CHECK constraint in place: both tables are rebuilt, rows and indexes kept.
CREATE TABLE service_certificates_new (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL
        CHECK (service IN ('CAPF', 'CallManager', 'LabManufacturer', 'ITLRecovery', 'TVS')),
    state         TEXT NOT NULL CHECK (state IN ('active', 'retired')),
    common_name   TEXT NOT NULL,
    subject       TEXT NOT NULL,
    fingerprint   TEXT NOT NULL UNIQUE,
    der           BLOB NOT NULL,
    key_file      TEXT NOT NULL,
    key_algorithm TEXT NOT NULL,
    not_before    TEXT NOT NULL,
    not_after     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    retired_at    TEXT
);
INSERT INTO service_certificates_new
    (id, service, state, common_name, subject, fingerprint, der, key_file, key_algorithm, not_before, not_after,
     created_at, retired_at)
    SELECT id, service, state, common_name, subject, fingerprint, der, key_file, key_algorithm, not_before,
           not_after, created_at, retired_at
    FROM service_certificates;
DROP TABLE service_certificates;
ALTER TABLE service_certificates_new RENAME TO service_certificates;
CREATE UNIQUE INDEX one_active_service_certificate ON service_certificates (service) WHERE state = 'active';

CREATE TABLE trust_entries_new (
    id          INTEGER PRIMARY KEY,
    store       TEXT NOT NULL CHECK (store IN ('CallManager-trust', 'CAPF-trust', 'Phone-SAST-trust')),
    fingerprint TEXT NOT NULL,
    subject     TEXT NOT NULL,
    common_name TEXT,
    subject_dn  TEXT NOT NULL,
    key_id      TEXT,
    der         BLOB NOT NULL,
    not_after   TEXT NOT NULL,
    legacy_sha1 INTEGER NOT NULL DEFAULT 0,
    added_at    TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    UNIQUE (store, fingerprint)
);
INSERT INTO trust_entries_new
    (id, store, fingerprint, subject, common_name, subject_dn, key_id, der, not_after, legacy_sha1, added_at,
     added_by)
    SELECT id, store, fingerprint, subject, common_name, subject_dn, key_id, der, not_after, legacy_sha1, added_at,
           added_by
    FROM trust_entries;
DROP TABLE trust_entries;
ALTER TABLE trust_entries_new RENAME TO trust_entries;

-- The firmware load the device's configuration file names (`loadInformation`); NULL = none.
ALTER TABLE devices ADD COLUMN load_information TEXT;

-- Configuration-file requests from devices the cluster does not know, one row per device name
-- (CUCM's auto-registration list), capped by the store at 10 000 rows.
CREATE TABLE unknown_requests (
    device      TEXT PRIMARY KEY,
    first_at    TEXT NOT NULL,
    last_at     TEXT NOT NULL,
    count       INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    last_source TEXT NOT NULL,
    last_file   TEXT NOT NULL
);
CREATE INDEX unknown_requests_last_at ON unknown_requests (last_at);

-- TVS looks certificates up by fingerprint in every store at once.
CREATE INDEX trust_entries_fingerprint ON trust_entries (fingerprint);
