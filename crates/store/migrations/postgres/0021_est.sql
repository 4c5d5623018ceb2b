-- PostgreSQL twin of sqlite/0021_est.sql: EST-trust joins the trust stores; enrolment codes and
-- approvals of EST (RFC 7030, issue 17).
ALTER TABLE trust_entries DROP CONSTRAINT trust_entries_store_check;
ALTER TABLE trust_entries ADD CONSTRAINT trust_entries_store_check
    CHECK (store IN ('CallManager-trust', 'CAPF-trust', 'Phone-SAST-trust', 'EST-trust'));

CREATE TABLE est_enrolment (
    device         TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (name) ON DELETE CASCADE,
    code_hash      TEXT COLLATE "C",
    code_set_at    TEXT COLLATE "C",
    code_failures  BIGINT NOT NULL DEFAULT 0 CHECK (code_failures >= 0),
    approved       BIGINT NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
    waiting_since  TEXT COLLATE "C",
    waiting_detail TEXT COLLATE "C"
);
