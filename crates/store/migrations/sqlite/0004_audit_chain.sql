-- A hash chain over the audit log: each record carries the SHA-256 of the previous record's hash
-- and its own fields (see `audit::row_hash`), so that a record changed or removed by someone who
-- dropped the append-only triggers is found by `opencapf audit verify`.
-- Records written before this migration are chained by the store when it next opens the cluster:
-- the only update the log accepts is giving such a record its hash, once.
ALTER TABLE audit_log ADD COLUMN hash TEXT;

DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at
    OR NEW.actor IS NOT OLD.actor OR NEW.action IS NOT OLD.action OR NEW.target IS NOT OLD.target
    OR NEW.detail IS NOT OLD.detail
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TRIGGER audit_log_hash_required BEFORE INSERT ON audit_log
WHEN NEW.hash IS NULL
BEGIN SELECT RAISE(ABORT, 'an audit record needs its chain hash'); END;
