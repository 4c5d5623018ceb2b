-- Every private key and secret of the cluster's data folder, sealed (AES-256-GCM) with the
-- cluster key (keys/cluster.kek, which never leaves the nodes' folders): how a node of a
-- PostgreSQL cluster gets a key another node made. The key files stay the working copies.
CREATE TABLE sealed_keys (
    name       TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    created_at TEXT NOT NULL
);
