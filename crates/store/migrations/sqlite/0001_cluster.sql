-- The cluster database. Portable SQL: TEXT timestamps (RFC 3339, UTC), BLOB for DER
-- (BYTEA in the PostgreSQL migration set), no SQLite-only types.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Certificates the cluster's own services hold: CAPF (active and retired), CallManager, and
-- the lab manufacturer. Private keys stay in files in the data folder (0600), named here.
CREATE TABLE service_certificates (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL CHECK (service IN ('CAPF', 'CallManager', 'LabManufacturer')),
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
CREATE UNIQUE INDEX one_active_service_certificate ON service_certificates (service) WHERE state = 'active';

CREATE TABLE trust_entries (
    id          INTEGER PRIMARY KEY,
    store       TEXT NOT NULL CHECK (store IN ('CallManager-trust', 'CAPF-trust')),
    fingerprint TEXT NOT NULL,
    subject     TEXT NOT NULL,
    common_name TEXT,
    subject_dn  TEXT NOT NULL,          -- hex of the DER Name, to find the LSCs an entry backs
    key_id      TEXT,                   -- SubjectKeyIdentifier, hex
    der         BLOB NOT NULL,
    not_after   TEXT NOT NULL,
    legacy_sha1 INTEGER NOT NULL DEFAULT 0,
    added_at    TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    UNIQUE (store, fingerprint)
);

CREATE TABLE devices (
    name          TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    protocol      TEXT NOT NULL CHECK (protocol IN ('SIP', 'SCCP')),
    security_mode TEXT NOT NULL CHECK (security_mode IN ('Non Secure', 'Authenticated', 'Encrypted')),
    description   TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    -- "Certificate Authority Proxy Function (CAPF) Information"
    operation     TEXT NOT NULL DEFAULT 'No Pending Operation',
    auth_mode     TEXT NOT NULL DEFAULT 'By Null String',
    auth_string   TEXT,
    key_order     TEXT NOT NULL DEFAULT 'RSA Only',
    rsa_bits      INTEGER NOT NULL DEFAULT 2048,
    ec_bits       INTEGER NOT NULL DEFAULT 256,
    completes_by  TEXT,
    status        TEXT NOT NULL DEFAULT 'None',
    status_at     TEXT,
    -- The certificates the phone holds, as far as the cluster knows.
    lsc_der       BLOB,
    lsc_serial    TEXT,
    lsc_issuer    TEXT,
    lsc_issuer_cn TEXT,
    lsc_issuer_dn TEXT,
    lsc_aki       TEXT,
    lsc_not_after TEXT,
    mic_der       BLOB
);
CREATE INDEX devices_lsc_issuer ON devices (lsc_issuer_dn);

-- Every LSC ever issued, once (the serial is the key). state: issued (sent to the phone),
-- installed (the phone stored it), failed (the phone did not), superseded, deleted.
CREATE TABLE issued_certificates (
    serial             TEXT PRIMARY KEY,
    device             TEXT NOT NULL,
    issuer_fingerprint TEXT NOT NULL,
    subject            TEXT NOT NULL,
    der                BLOB NOT NULL,
    not_before         TEXT NOT NULL,
    not_after          TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('issued', 'installed', 'failed', 'superseded', 'deleted')),
    issued_at          TEXT NOT NULL,
    state_at           TEXT NOT NULL
);
CREATE INDEX issued_certificates_device ON issued_certificates (device);

-- Status history of CAPF operations, one row per change.
CREATE TABLE operation_history (
    id        INTEGER PRIMARY KEY,
    device    TEXT NOT NULL,
    at        TEXT NOT NULL,
    operation TEXT NOT NULL,
    auth_mode TEXT NOT NULL,
    status    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operation_history_device ON operation_history (device, id);

-- Append-only: the triggers below refuse any change to a written row.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
