#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster (it is not started by the package on a machine without
# systemd) and makes the role the tests use: `opencapf`, password `opencapf`, allowed to create
# the database each test gets (OPENCAPF_TEST_POSTGRES_URL=postgres://opencapf:opencapf@127.0.0.1:5432/postgres).
# For test machines only: the password is public.
set -euo pipefail
read -r version cluster < <(pg_lsclusters --no-header | awk 'NR==1 {print $1, $2}')
if [ -z "${version:-}" ]; then
    echo "no PostgreSQL cluster: install the postgresql package" >&2
    exit 1
fi
pg_ctlcluster "$version" "$cluster" start 2>/dev/null || pg_ctlcluster "$version" "$cluster" status >/dev/null
for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'opencapf') THEN
        CREATE ROLE opencapf LOGIN CREATEDB PASSWORD 'opencapf';
    END IF;
END $$;
SQL
echo "PostgreSQL $version/$cluster is up: postgres://opencapf:***@127.0.0.1:5432/postgres"
