-- Which TLS engine served a registration: rustls, or OpenSSL for the legacy phones (TLS 1.0,
-- CBC and NULL suites) rustls cannot serve. Every TLS row before this one was served by rustls;
-- rows without TLS have no engine.
ALTER TABLE registrations ADD COLUMN engine TEXT CHECK (engine IN ('rustls', 'openssl'));
UPDATE registrations SET engine = 'rustls' WHERE transport = 'TLS';
