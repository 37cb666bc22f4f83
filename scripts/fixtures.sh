#!/usr/bin/env bash
# Builds the real test and demo fixtures under $BULKHEAD_FIXTURES (default
# .fixtures), once: later runs reuse what is there.
#
#   rootfs-base/  debootstrap --variant=minbase bookworm (apt caches removed)
#   rootfs-app/   rootfs-base + apt-get install curl ca-certificates, + /app
#                 (npm packages, a Go binary)
#   demo.tar      docker-archive of the two states (uncompressed layers)
#   demo-oci/     the same image as an OCI layout with gzip layers
#
# Needs root (debootstrap, chroot) and Debian's package mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
FX=${BULKHEAD_FIXTURES:-$PWD/.fixtures}
mkdir -p "$FX"
log() { printf '%s\n' "fixtures: $*" >&2; }

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	log "installing $2"
	if [ "$(id -u)" != 0 ]; then
		log "need root to install $2 (apt-get install -y $2)"; exit 1
	fi
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

if [ ! -f "$FX/rootfs-base.done" ]; then
	need debootstrap debootstrap
	rm -rf "$FX/rootfs-base"
	log "debootstrap --variant=minbase bookworm (about a minute)"
	debootstrap --variant=minbase bookworm "$FX/rootfs-base" >"$FX/debootstrap.log" 2>&1 ||
		{ tail -20 "$FX/debootstrap.log" >&2; exit 1; }
	rm -rf "$FX/rootfs-base"/var/cache/apt/archives/*.deb "$FX/rootfs-base"/var/lib/apt/lists/*
	touch "$FX/rootfs-base.done"
fi

if [ ! -f "$FX/rootfs-app.done" ]; then
	rm -rf "$FX/rootfs-app"
	cp -a "$FX/rootfs-base" "$FX/rootfs-app"
	log "chroot apt-get install curl ca-certificates"
	chroot "$FX/rootfs-app" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/*' \
		>"$FX/chroot.log" 2>&1 || { tail -20 "$FX/chroot.log" >&2; exit 1; }
	mkdir -p "$FX/rootfs-app/app"
	printf '#!/bin/sh\nexec curl -fsS "$@"\n' >"$FX/rootfs-app/app/fetch.sh"
	chmod 755 "$FX/rootfs-app/app/fetch.sh"
	# The application: real npm packages at versions with published
	# advisories, and a Go binary built against old modules.
	need npm npm
	log "npm install lodash@4.17.15 minimist@1.2.0 (into /app)"
	(cd "$FX/rootfs-app/app" && printf '{"name":"demo-app","version":"1.0.0","private":true}\n' >package.json &&
		npm install --ignore-scripts --no-audit --no-fund --silent lodash@4.17.15 minimist@1.2.0 >"$FX/npm.log" 2>&1) ||
		{ tail -20 "$FX/npm.log" >&2; exit 1; }
	log "go build /app/bin/demo (golang.org/x/text v0.3.0)"
	src=$(mktemp -d)
	cat >"$src/main.go" <<'GO'
package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() { fmt.Println(language.English) }
GO
	(cd "$src" && go mod init example.com/demo >/dev/null 2>&1 && go get golang.org/x/text@v0.3.0 >/dev/null 2>&1 &&
		CGO_ENABLED=0 go build -trimpath -o "$FX/rootfs-app/app/bin/demo" .) || { rm -rf "$src"; log "go build failed"; exit 1; }
	rm -rf "$src"
	touch "$FX/rootfs-app.done"
fi

if [ ! -f "$FX/demo.tar" ] || [ ! -f "$FX/demo-oci/index.json" ]; then
	log "assembling demo.tar and demo-oci/"
	mkdir -p "$FX/work"
	go run ./internal/testutil/mkimage -tag bulkhead-demo:latest \
		-docker-archive "$FX/demo.tar.tmp" -oci-layout "$FX/demo-oci" -work "$FX/work" \
		-state "$FX/rootfs-base=debootstrap --variant=minbase bookworm" \
		-state "$FX/rootfs-app=RUN apt-get install -y --no-install-recommends curl ca-certificates && npm install lodash@4.17.15 minimist@1.2.0 && go build -o /app/bin/demo" \
		-cmd /app/fetch.sh
	mv "$FX/demo.tar.tmp" "$FX/demo.tar"
	rm -rf "$FX/work"
fi
log "ready in $FX"
