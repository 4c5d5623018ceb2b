-- Revocation (issue 9 item 3): an LSC can be `revoked` by an administrator, and every state
-- change says who made it; the CRL last signed by each CAPF certificate is kept.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the new state.
CREATE TABLE issued_certificates_new (
    serial             TEXT PRIMARY KEY,
    device             TEXT NOT NULL,
    issuer_fingerprint TEXT NOT NULL,
    subject            TEXT NOT NULL,
    der                BLOB NOT NULL,
    not_before         TEXT NOT NULL,
    not_after          TEXT NOT NULL,
    state              TEXT NOT NULL
        CHECK (state IN ('issued', 'installed', 'failed', 'superseded', 'deleted', 'revoked')),
    issued_at          TEXT NOT NULL,
    state_at           TEXT NOT NULL,
    -- Who made the last state change (`capf`, or the administrator for `revoked`).
    state_by           TEXT
);
INSERT INTO issued_certificates_new
    (serial, device, issuer_fingerprint, subject, der, not_before, not_after, state, issued_at, state_at)
    SELECT serial, device, issuer_fingerprint, subject, der, not_before, not_after, state, issued_at, state_at
    FROM issued_certificates;
DROP TABLE issued_certificates;
ALTER TABLE issued_certificates_new RENAME TO issued_certificates;
CREATE INDEX issued_certificates_device ON issued_certificates (device);
CREATE INDEX issued_certificates_state ON issued_certificates (device, state);
CREATE INDEX issued_certificates_issuer ON issued_certificates (issuer_fingerprint, state);

-- The latest CRL of each CAPF certificate (active or retired), regenerated on every change.
CREATE TABLE capf_crls (
    capf_fingerprint TEXT PRIMARY KEY,
    number           INTEGER NOT NULL CHECK (number >= 1),
    this_update      TEXT NOT NULL,
    next_update      TEXT NOT NULL,
    der              BLOB NOT NULL
);
