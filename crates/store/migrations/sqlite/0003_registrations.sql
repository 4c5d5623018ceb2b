-- What CallManager records of each phone registration: accepted, refused, or ended by the phone.
-- No foreign key to devices: refusals name devices the cluster does not have, and the history of
-- a removed device stays readable.
CREATE TABLE registrations (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    device       TEXT,                 -- the name the phone gave (or its certificate's), when known
    peer         TEXT NOT NULL,        -- address:port of the phone
    protocol     TEXT NOT NULL CHECK (protocol IN ('SIP', 'SCCP')),
    transport    TEXT NOT NULL CHECK (transport IN ('TLS', 'TCP')),
    tls_version  TEXT,                 -- TLSv1.2, TLSv1.3
    cipher       TEXT,                 -- IANA name of the cipher suite
    cert_kind    TEXT,                 -- LSC, MIC, other
    cert_subject TEXT,
    issuer_cn    TEXT,
    serial       TEXT,                 -- of the phone's certificate, lowercase hex
    result       TEXT NOT NULL CHECK (result IN ('registered', 'refused', 'unregistered')),
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registrations_device ON registrations (device, id);
