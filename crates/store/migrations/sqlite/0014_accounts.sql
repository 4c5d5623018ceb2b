-- Who may use the admin web pages and the REST API (issue 14). Passwords are argon2id PHC
-- strings; API tokens are kept as the SHA-256 of the secret (256 random bits: a slow hash adds
-- nothing), so neither can be read back.
CREATE TABLE admin_accounts (
    name                TEXT PRIMARY KEY,
    role                TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk')),
    password_hash       TEXT NOT NULL,
    must_change         INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login          TEXT
);

CREATE TABLE api_tokens (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'helpdesk')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_used  TEXT
);
