-- The change feed (crates/store/src/changes.rs): at commit, every node's LISTEN connection hears
-- which part of the cluster changed, and reloads what it keeps of it for the next connection.
-- Statement triggers, so a statement changing many rows notifies once; PostgreSQL also folds
-- identical notifications of one transaction into one.

CREATE FUNCTION opencapf_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('opencapf_changes', TG_ARGV[0]);
    RETURN NULL;
END;
$$;

CREATE TRIGGER change_feed_trust AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON trust_entries
    FOR EACH STATEMENT EXECUTE FUNCTION opencapf_notify_change('trust');
CREATE TRIGGER change_feed_identities AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_certificates
    FOR EACH STATEMENT EXECUTE FUNCTION opencapf_notify_change('identities');
CREATE TRIGGER change_feed_identity_issuers AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON service_certificate_issuers
    FOR EACH STATEMENT EXECUTE FUNCTION opencapf_notify_change('identities');
CREATE TRIGGER change_feed_issued AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON issued_certificates
    FOR EACH STATEMENT EXECUTE FUNCTION opencapf_notify_change('issued');
CREATE TRIGGER change_feed_settings AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION opencapf_notify_change('settings');
