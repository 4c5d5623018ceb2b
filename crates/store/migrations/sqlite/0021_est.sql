-- EST (RFC 7030, issue 17): EST-trust joins the trust stores, and each device may hold a
-- one-time enrolment code (its keyed hash, never the code) and an administrator's approval.
--
-- SQLite cannot change a CHECK constraint in place: trust_entries is rebuilt, rows and indexes kept.
CREATE TABLE trust_entries_new (
    id          INTEGER PRIMARY KEY,
    store       TEXT NOT NULL
        CHECK (store IN ('CallManager-trust', 'CAPF-trust', 'Phone-SAST-trust', 'EST-trust')),
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
CREATE INDEX trust_entries_fingerprint ON trust_entries (fingerprint);

-- One row per device that has an enrolment code, an approval, or a request waiting for one.
CREATE TABLE est_enrolment (
    device         TEXT PRIMARY KEY REFERENCES devices (name) ON DELETE CASCADE,
    -- HMAC-SHA256 of the code with the cluster's key file (as authentication strings); NULL: none.
    code_hash      TEXT,
    code_set_at    TEXT,
    -- Wrong codes since this one was made; the code is cleared at the lock-out.
    code_failures  INTEGER NOT NULL DEFAULT 0 CHECK (code_failures >= 0),
    -- `est approve`: one enrolment allowed under est.approval = manual, spent by it.
    approved       INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
    -- The first refused request still waiting for an approval (202), with where it came from.
    waiting_since  TEXT,
    waiting_detail TEXT
);
