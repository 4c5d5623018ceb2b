-- The admin service's web sessions and failed logins, shared by every node of the cluster
-- (issue 15): a login on one node is valid on the others, a logout or password change ends the
-- session everywhere, and a guesser cannot spread attempts over nodes. Times are Unix
-- milliseconds.
--
-- A session is found by the SHA-256 of its cookie's id (hex): the table does not hold a
-- usable cookie. The CSRF token is kept as it is: the pages must put it in their forms.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    account    TEXT NOT NULL REFERENCES admin_accounts (name) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

-- One row per failed login, under two keys: `account:NAME` and `source:ADDRESS`.
CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);
