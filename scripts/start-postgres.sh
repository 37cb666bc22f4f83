#!/usr/bin/env bash
# start-postgres.sh starts a local PostgreSQL for bulkhead's store tests and
# prints the DSN to use on stdout (everything else goes to stderr):
#
#	export BULKHEAD_TEST_POSTGRES="$(scripts/start-postgres.sh)"
#
# Idempotent: a running cluster, an existing role or database is reused.
# Installs Debian's `postgresql` with apt when no server is installed, creates
# a cluster when there is none, starts it, and creates a database
# (bulkhead_test) owned by a role named after the calling OS user. The DSN
# uses the unix socket with peer authentication, so there is no password to
# print or leak.
#
# Settings (environment):
#	PGTEST_DB     database name (default bulkhead_test)
#	PGTEST_WAIT   seconds to wait for the server to accept connections (default 60)
set -euo pipefail

db="${PGTEST_DB:-bulkhead_test}"
wait_s="${PGTEST_WAIT:-60}"
say() { echo "start-postgres: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	say "must run as root (it may install packages and start a cluster as user postgres); try: sudo $0"
	exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
	say "installing postgresql with apt"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi

ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=main
if ! pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1 == v && $2 == c {found=1} END {exit !found}'; then
	say "creating cluster $ver/$cluster"
	pg_createcluster "$ver" "$cluster" >&2
fi
port=$(pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1 == v && $2 == c {print $3}')
status=$(pg_lsclusters -h | awk -v v="$ver" -v c="$cluster" '$1 == v && $2 == c {print $4}')
sockdir=/var/run/postgresql
if [ "$status" != online ]; then
	# A server that was killed leaves its pid file behind; pg_ctlcluster
	# refuses to start over a live-looking one, so clear a stale one.
	pidfile="/var/lib/postgresql/$ver/$cluster/postmaster.pid"
	if [ -f "$pidfile" ]; then
		old=$(head -n 1 "$pidfile" || true)
		if [ -z "$old" ] || ! kill -0 "$old" 2>/dev/null; then
			say "removing stale $pidfile"
			rm -f "$pidfile"
		fi
	fi
	mkdir -p "$sockdir"
	chown postgres:postgres "$sockdir"
	say "starting cluster $ver/$cluster on port $port"
	pg_ctlcluster "$ver" "$cluster" start >&2
fi

deadline=$((SECONDS + wait_s))
until pg_isready -q -h "$sockdir" -p "$port"; do
	if ((SECONDS >= deadline)); then
		say "PostgreSQL $ver/$cluster did not accept connections within ${wait_s}s; log: /var/log/postgresql/postgresql-$ver-$cluster.log"
		tail -n 20 "/var/log/postgresql/postgresql-$ver-$cluster.log" >&2 || true
		exit 1
	fi
	sleep 1
done

user=$(id -un)
psql_pg() { runuser -u postgres -- psql -h "$sockdir" -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != 1 ]; then
	say "creating role $user"
	psql_pg -c "CREATE ROLE \"$user\" LOGIN CREATEDB" >&2
fi
if [ "$(psql_pg -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
	say "creating database $db"
	psql_pg -c "CREATE DATABASE \"$db\" OWNER \"$user\"" >&2
fi

say "PostgreSQL $ver/$cluster is up; database $db"
echo "postgres://$user@/$db?host=$sockdir&port=$port&sslmode=disable"
