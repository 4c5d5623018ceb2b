-- What the CAPF server records beyond the device row, the issued LSCs, the status history and
-- the audit log of 0001.

-- Certificates a phone uploaded with Troubleshoot (FetchCertificateResponse), one row per
-- certificate per upload, so that an administrator can read them later (`device certs`).
CREATE TABLE uploaded_certificates (
    id          INTEGER PRIMARY KEY,
    device      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('LSC', 'MIC')),
    der         BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    subject     TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    serial      TEXT NOT NULL,
    not_after   TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX uploaded_certificates_device ON uploaded_certificates (device, id);

-- The issued LSCs still waiting for the phone's StoreCertificateResponse, found by state.
CREATE INDEX issued_certificates_state ON issued_certificates (device, state);
