-- The nodes of the cluster (issue 15): each `serve` records itself at start, beats every few
-- seconds and marks itself stopped on a clean stop. Phones are told about the running ones (the
-- CallManager group of their configuration). Ports are where phones and other nodes reach the
-- node's services at `host`; the HTTP and admin ports are NULL when that listener is off.
CREATE TABLE nodes (
    name             TEXT PRIMARY KEY,
    host             TEXT NOT NULL,
    capf_port        INTEGER NOT NULL,
    sip_port         INTEGER NOT NULL,
    secured_sip_port INTEGER NOT NULL,
    sccp_port        INTEGER NOT NULL,
    tvs_port         INTEGER NOT NULL,
    http_port        INTEGER,
    admin_port       INTEGER,
    version          TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    heartbeat_at     TEXT NOT NULL,
    heartbeat_secs   INTEGER NOT NULL CHECK (heartbeat_secs >= 1),
    stopped_at       TEXT
);
