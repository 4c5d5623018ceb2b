-- Authentication strings at rest and the claim on a device's pending operation.
--
-- A string is kept only as a keyed hash (HMAC-SHA256 with the cluster's key file in keys/), so
-- that a copy of the database does not reveal it; the clear column of 0001 stays empty (the
-- cluster hashes what an older version left in it when it next opens, as only it has the key).
ALTER TABLE devices ADD COLUMN auth_string_hash TEXT;
-- The CAPF session working on the pending operation, and until when (Unix milliseconds): one
-- session at a time per device; a claim left by a crashed server expires.
ALTER TABLE devices ADD COLUMN claim_session TEXT;
ALTER TABLE devices ADD COLUMN claim_expires INTEGER;
