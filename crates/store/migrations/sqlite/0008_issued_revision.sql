-- A counter that moves with every change to issued_certificates, so that a server can keep the
-- LSCs it refuses in memory and read them again only when one changed state.
CREATE TABLE issued_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO issued_revision (id, n) VALUES (1, 0);

CREATE TRIGGER issued_revision_insert AFTER INSERT ON issued_certificates
BEGIN
    UPDATE issued_revision SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER issued_revision_update AFTER UPDATE ON issued_certificates
BEGIN
    UPDATE issued_revision SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER issued_revision_delete AFTER DELETE ON issued_certificates
BEGIN
    UPDATE issued_revision SET n = n + 1 WHERE id = 1;
END;
