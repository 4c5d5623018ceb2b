-- The admin web service's certificate (issue 14): `tomcat`, as CUCM names it, joins the service
-- certificates. When an enterprise CA signs it, the issuers are kept with it, in order, so that
-- the HTTPS server presents the whole chain.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt, rows and indexes kept.
CREATE TABLE service_certificates_new (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL
        CHECK (service IN ('CAPF', 'CallManager', 'LabManufacturer', 'ITLRecovery', 'TVS', 'tomcat')),
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

-- The issuer certificates (DER) of a service certificate an enterprise CA signed, nearest first.
CREATE TABLE service_certificate_issuers (
    certificate_id INTEGER NOT NULL REFERENCES service_certificates (id),
    position       INTEGER NOT NULL CHECK (position >= 0),
    der            BLOB NOT NULL,
    PRIMARY KEY (certificate_id, position)
);
