-- The nodes of the cluster: the twin of migrations/sqlite/0015_nodes.sql.
CREATE TABLE nodes (
    name             TEXT COLLATE "C" PRIMARY KEY,
    host             TEXT COLLATE "C" NOT NULL,
    capf_port        BIGINT NOT NULL,
    sip_port         BIGINT NOT NULL,
    secured_sip_port BIGINT NOT NULL,
    sccp_port        BIGINT NOT NULL,
    tvs_port         BIGINT NOT NULL,
    http_port        BIGINT,
    admin_port       BIGINT,
    version          TEXT COLLATE "C" NOT NULL,
    started_at       TEXT COLLATE "C" NOT NULL,
    heartbeat_at     TEXT COLLATE "C" NOT NULL,
    heartbeat_secs   BIGINT NOT NULL CHECK (heartbeat_secs >= 1),
    stopped_at       TEXT COLLATE "C"
);
