-- Refusals are recorded aggregated: one row for the refused attempts from one address for one
-- reason within a second or so, with their number; `at` is the last of them, `first_at` the first.
ALTER TABLE registrations ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1);
ALTER TABLE registrations ADD COLUMN first_at TEXT;
-- Retention deletes by age.
CREATE INDEX registrations_at ON registrations (at);
