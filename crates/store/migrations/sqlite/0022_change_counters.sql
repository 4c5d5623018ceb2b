-- The change feed on SQLite (crates/store/src/changes.rs): one counter per topic, raised by the
-- tables' triggers in the writing transaction, so that a process that sees `PRAGMA data_version`
-- move reloads only what changed. Without them every commit (a CAPF session's included) would
-- report every topic, and the servers would read the trust stores and identities again per
-- connection under load. PostgreSQL notifies per topic already (0016).

CREATE TABLE change_counters (
    topic   TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0
);
INSERT INTO change_counters (topic) VALUES ('trust'), ('identities'), ('issued'), ('settings');

CREATE TRIGGER change_trust_insert AFTER INSERT ON trust_entries
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'trust'; END;
CREATE TRIGGER change_trust_update AFTER UPDATE ON trust_entries
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'trust'; END;
CREATE TRIGGER change_trust_delete AFTER DELETE ON trust_entries
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'trust'; END;

CREATE TRIGGER change_identities_insert AFTER INSERT ON service_certificates
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'identities'; END;
CREATE TRIGGER change_identities_update AFTER UPDATE ON service_certificates
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'identities'; END;
CREATE TRIGGER change_identities_delete AFTER DELETE ON service_certificates
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'identities'; END;
CREATE TRIGGER change_identity_issuers_insert AFTER INSERT ON service_certificate_issuers
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'identities'; END;
CREATE TRIGGER change_identity_issuers_update AFTER UPDATE ON service_certificate_issuers
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'identities'; END;
CREATE TRIGGER change_identity_issuers_delete AFTER DELETE ON service_certificate_issuers
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'identities'; END;

CREATE TRIGGER change_issued_insert AFTER INSERT ON issued_certificates
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'issued'; END;
CREATE TRIGGER change_issued_update AFTER UPDATE ON issued_certificates
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'issued'; END;
CREATE TRIGGER change_issued_delete AFTER DELETE ON issued_certificates
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'issued'; END;

CREATE TRIGGER change_settings_insert AFTER INSERT ON settings
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'settings'; END;
CREATE TRIGGER change_settings_update AFTER UPDATE ON settings
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'settings'; END;
CREATE TRIGGER change_settings_delete AFTER DELETE ON settings
BEGIN UPDATE change_counters SET version = version + 1 WHERE topic = 'settings'; END;
