#!/bin/sh
# One database and two roles per service, so no service can read another's tables:
# - telemed_<service> owns the database and its tables; migrations (the `migrate` job) run as it;
# - telemed_<service>_app is what the service runs as: it reads and writes the tables but owns
#   none, so it cannot alter or drop them, and the audit records it may only INSERT and SELECT
#   (the `..._audit_key` migrations take UPDATE, DELETE and TRUNCATE on them from every role
#   but the owner, and this script does the same on a database that has them already).
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d); on an
# existing server run it by hand with the same variables (roles and databases that exist are
# kept, their rights brought up to date):
#   PGHOST=... PGUSER=postgres GATEWAY_DB_PASSWORD=... GATEWAY_APP_DB_PASSWORD=... sh deploy/postgres-init.sh
# Passwords come from <SERVICE>_DB_PASSWORD (owner) and <SERVICE>_APP_DB_PASSWORD (the service);
# they go into URLs, so use hex (openssl rand -hex 24).
set -eu

services="${TELEMED_DB_SERVICES:-gateway consult files video scheduling web}"
secret_of() {  # secret_of <service> <DB_PASSWORD|APP_DB_PASSWORD>
    printenv "$(echo "$1" | tr '[:lower:]' '[:upper:]')_$2" || true
}
for service in $services; do  # all checked before anything is created
    for variable in DB_PASSWORD APP_DB_PASSWORD; do
        if [ -z "$(secret_of "$service" "$variable")" ]; then
            echo "postgres-init: $(echo "$service" | tr '[:lower:]' '[:upper:]')_$variable is not set" >&2
            exit 1
        fi
    done
done

for service in $services; do
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --dbname postgres \
        -v owner="telemed_$service" -v password="$(secret_of "$service" DB_PASSWORD)" \
        -v app="telemed_${service}_app" -v app_password="$(secret_of "$service" APP_DB_PASSWORD)" \
        <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') AS new_owner \gset
\if :new_owner
CREATE ROLE :"owner" LOGIN PASSWORD :'password';
CREATE DATABASE :"owner" OWNER :"owner";
REVOKE ALL ON DATABASE :"owner" FROM PUBLIC;
\endif
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') AS new_app \gset
\if :new_app
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
\endif
GRANT CONNECT, TEMPORARY ON DATABASE :"owner" TO :"app";
\connect :"owner"
GRANT USAGE ON SCHEMA public TO :"app";
-- Every table the owner creates from now on (each migration), and those it has already.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
SELECT to_regclass('public.audit_records') IS NOT NULL AS has_audit \gset
\if :has_audit
REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM :"app";
\endif
SQL
done

# Scheduling's exclusion constraint needs btree_gist (a trusted extension since PostgreSQL 13,
# so its migration could create it too; done here so a stricter server does not stop it).
case " $services " in
    *" scheduling "*)
        psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname telemed_scheduling \
            -c 'CREATE EXTENSION IF NOT EXISTS btree_gist' ;;
esac
