#!/usr/bin/env bash
# start-dockerd.sh starts a Docker Engine for bulkhead's tests and leaves it
# running in the background. It does nothing when `docker info` already
# answers. .ci/run calls it; developers can too:
#
#	sudo scripts/start-dockerd.sh            # default socket /var/run/docker.sock
#	DOCKER_HOST=unix:///tmp/d.sock scripts/start-dockerd.sh
#
# Settings (environment):
#	DOCKER_HOST     unix:///PATH of the socket to serve (default unix:///var/run/docker.sock)
#	DOCKERD_LOG     daemon log file (default /var/log/bulkhead-dockerd.log)
#	DOCKERD_WAIT    seconds to wait for the daemon to answer (default 60)
#	DOCKERD_FLAGS   extra dockerd flags; when set, only this one flag set is tried
#
# In the sandbox this project runs in (root, cgroup v1, ext4, no systemd)
# plain `dockerd --host=unix:///var/run/docker.sock` works: overlay2 storage,
# iptables and the docker0 bridge included. The fallbacks below are for
# machines where iptables, the bridge or overlayfs are not allowed.
set -euo pipefail

host="${DOCKER_HOST:-unix:///var/run/docker.sock}"
log="${DOCKERD_LOG:-/var/log/bulkhead-dockerd.log}"
wait_s="${DOCKERD_WAIT:-60}"

say() { echo "start-dockerd: $*" >&2; }

engine_up() { DOCKER_HOST="$host" timeout 5 docker info >/dev/null 2>&1; }

if ! command -v docker >/dev/null 2>&1; then
	say "the docker CLI is not installed: run 'apt-get update && apt-get install -y docker.io' (as root)"
	exit 1
fi
if engine_up; then
	say "Docker Engine already answers at $host; nothing to do"
	exit 0
fi
case "$host" in
unix://*) ;;
*)
	say "DOCKER_HOST=$host does not answer and is not a local unix socket this script can serve; unset DOCKER_HOST or start that engine yourself"
	exit 1
	;;
esac
if ! command -v dockerd >/dev/null 2>&1; then
	say "dockerd is not installed: run 'apt-get update && apt-get install -y docker.io' (as root)"
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	say "dockerd must be started as root (try: sudo $0)"
	exit 1
fi

mkdir -p "$(dirname "$log")"
: >>"$log"

# Flag sets, most capable first.
attempts=(
	""
	"--iptables=false --bridge=none"
	"--iptables=false --bridge=none --storage-driver=vfs"
)
if [ -n "${DOCKERD_FLAGS:-}" ]; then
	attempts=("$DOCKERD_FLAGS")
fi

sock="${host#unix://}"
mkdir -p "$(dirname "$sock")"
# dockerd's defaults; its own containerd keeps a pid file under exec-root.
pidfile=/var/run/docker.pid
containerd_pidfile=/var/run/docker/containerd/containerd.pid

# live NAME PID: is PID a running process called NAME? A killed daemon can
# stay a zombie for a while here (PID 1 reaps late), and dockerd takes a
# zombie for a live process.
live() {
	local state
	state=$(awk '/^State:/ {print $2}' "/proc/$2/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ]
}

# A daemon that was killed (CI ends what a session left running) leaves its
# pid files and socket behind; the next dockerd refuses to start over them,
# or waits for a containerd that is gone.
clear_stale() {
	local name file old
	for name in dockerd containerd; do
		file=$pidfile
		[ "$name" = containerd ] && file=$containerd_pidfile
		[ -f "$file" ] || continue
		old=$(cat "$file" 2>/dev/null || true)
		if [ -z "$old" ] || ! live "$name" "$old"; then
			say "removing stale $file (pid ${old:-none} is not a running $name)"
			rm -f "$file"
		fi
	done
	if [ -S "$sock" ] && ! engine_up; then
		rm -f "$sock"
	fi
}

# Each flag set gets two tries: a first failure can come from what a killed
# daemon left behind, not from the flags.
tries=()
for flags in "${attempts[@]}"; do
	tries+=("$flags" "$flags")
done
for flags in "${tries[@]}"; do
	clear_stale
	# shellcheck disable=SC2086 # flags are words on purpose
	cmd=(dockerd "--host=$host" $flags)
	say "starting: ${cmd[*]} (log: $log)"
	echo "==== $(date -u +%FT%TZ) start-dockerd: ${cmd[*]}" >>"$log"
	start_line=$(wc -l <"$log")
	setsid nohup "${cmd[@]}" </dev/null >>"$log" 2>&1 &
	pid=$!
	deadline=$((SECONDS + wait_s))
	while ((SECONDS < deadline)); do
		if engine_up; then
			say "Docker Engine is up at $host (pid $pid, flags: ${flags:-none})"
			exit 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "dockerd (pid $pid) did not answer within ${wait_s}s; stopping it. Log tail:"
		tail -n 40 "$log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	say "dockerd exited with flags '${flags:-none}'; log tail:"
	tail -n +"$((start_line + 1))" "$log" | tail -n 15 >&2
done
say "could not start dockerd with any flag set; see $log"
exit 1
