-- SIP over UDP (Non Secure phones) joins TLS and TCP, and each registration records the lines
-- (directory numbers, space-separated) it was for. SQLite cannot change a CHECK constraint in
-- place: the table is rebuilt, rows and indexes kept.
CREATE TABLE registrations_new (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    device       TEXT,
    peer         TEXT NOT NULL,
    protocol     TEXT NOT NULL CHECK (protocol IN ('SIP', 'SCCP')),
    transport    TEXT NOT NULL CHECK (transport IN ('TLS', 'TCP', 'UDP')),
    tls_version  TEXT,
    cipher       TEXT,
    cert_kind    TEXT,
    cert_subject TEXT,
    issuer_cn    TEXT,
    serial       TEXT,
    result       TEXT NOT NULL CHECK (result IN ('registered', 'refused', 'unregistered')),
    reason       TEXT NOT NULL DEFAULT '',
    count        INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    first_at     TEXT,
    lines        TEXT NOT NULL DEFAULT ''
);
INSERT INTO registrations_new (id, at, device, peer, protocol, transport, tls_version, cipher, cert_kind,
                               cert_subject, issuer_cn, serial, result, reason, count, first_at)
    SELECT id, at, device, peer, protocol, transport, tls_version, cipher, cert_kind, cert_subject, issuer_cn,
           serial, result, reason, count, first_at
    FROM registrations;
DROP TABLE registrations;
ALTER TABLE registrations_new RENAME TO registrations;
CREATE INDEX registrations_device ON registrations (device, id);
CREATE INDEX registrations_at ON registrations (at);
