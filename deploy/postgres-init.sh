#!/bin/sh
# One role and one database per service, each role owning only its own database, so no service
# can read another's tables. Run once by the postgres image on an empty data directory
# (/docker-entrypoint-initdb.d); on an existing server run it by hand with the same variables:
#   PGHOST=... PGUSER=postgres GATEWAY_DB_PASSWORD=... ... sh deploy/postgres-init.sh
# Passwords come from <SERVICE>_DB_PASSWORD; they go into URLs, so use hex (openssl rand -hex 24).
set -eu

services="gateway consult files video scheduling"
password_of() {
    printenv "$(echo "$1" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD" || true
}
for service in $services; do  # all checked before anything is created
    if [ -z "$(password_of "$service")" ]; then
        echo "postgres-init: $(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD is not set" >&2
        exit 1
    fi
done

for service in $services; do
    password="$(password_of "$service")"
    psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres \
        -v name="telemed_$service" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done

# Scheduling's exclusion constraint needs btree_gist (a trusted extension since PostgreSQL 13,
# so its migration could create it too; done here so a stricter server does not stop it).
psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname telemed_scheduling \
    -c 'CREATE EXTENSION IF NOT EXISTS btree_gist'
