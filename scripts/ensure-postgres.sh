#!/usr/bin/env bash
# Start the local PostgreSQL cluster used by the store tests when it is not running.
# Exits 0 once 127.0.0.1:5432 accepts connections, 1 if it cannot be started.
set -euo pipefail

HOST=${PGHOST_TEST:-127.0.0.1}
PORT=${PGPORT_TEST:-5432}

ready() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }

if ready; then
    exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /etc/postgresql ]; then
    echo "ensure-postgres: PostgreSQL is not installed (no pg_ctlcluster or /etc/postgresql)" >&2
    exit 1
fi
VERSION=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_ctlcluster --skip-systemctl-redirect "$VERSION" main start || true
for _ in $(seq 1 30); do
    if ready; then
        exit 0
    fi
    sleep 1
done
echo "ensure-postgres: PostgreSQL $VERSION did not come up on $HOST:$PORT" >&2
exit 1
