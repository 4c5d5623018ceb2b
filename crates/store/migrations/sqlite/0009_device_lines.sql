-- A device's directory numbers, in button order. A DN may sit on several devices (a shared line,
-- as in CUCM), but only once on each.
CREATE TABLE device_lines (
    device   TEXT NOT NULL REFERENCES devices (name) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 1),
    dn       TEXT NOT NULL,
    PRIMARY KEY (device, position),
    UNIQUE (device, dn)
);
CREATE INDEX device_lines_dn ON device_lines (dn);
