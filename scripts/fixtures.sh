#!/usr/bin/env bash
# Builds the real test and demo fixtures under $BULKHEAD_FIXTURES (default
# .fixtures), once: later runs reuse what is there.
#
#   rootfs-base/  debootstrap --variant=minbase bookworm (apt caches removed)
#   rootfs-app/   rootfs-base + apt-get install curl ca-certificates, + /app
#                 (npm packages, a Go binary)
#   demo.tar      docker-archive of the two states (uncompressed layers)
#   demo-oci/     the same image as an OCI layout with gzip layers
#   rootfs-poly/  rootfs-app + Debian's jackson-databind jar and python3-requests
#                 (language packages owned by dpkg), a Python venv (pip,
#                 setuptools), a copied jar and an express app under /srv/web
#   poly.tar      docker-archive of base, app and poly states (the language
#                 package comparison in bench/compare.sh; TestPolyglotImage)
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
if [ ! -f "$FX/rootfs-poly.done" ]; then
	rm -rf "$FX/rootfs-poly"
	cp -a "$FX/rootfs-app" "$FX/rootfs-poly"
	log "chroot apt-get install libjackson2-databind-java python3-requests python3-venv; python3 -m venv /app/venv"
	chroot "$FX/rootfs-poly" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjackson2-databind-java python3-requests python3-venv >/dev/null && apt-get clean && rm -rf /var/lib/apt/lists/* && python3 -m venv /app/venv && mkdir -p /app/lib && cp /usr/share/java/jackson-databind.jar /app/lib/jackson-databind-2.14.0.jar' \
		>"$FX/chroot-poly.log" 2>&1 || { tail -20 "$FX/chroot-poly.log" >&2; exit 1; }
	# A second npm app: scoped packages and nested duplicates at other versions.
	log "npm install express@4.17.1 @types/node@14.0.0 (into /srv/web)"
	mkdir -p "$FX/rootfs-poly/srv/web"
	(cd "$FX/rootfs-poly/srv/web" && printf '{"name":"web","version":"0.1.0","private":true}\n' >package.json &&
		npm install --ignore-scripts --no-audit --no-fund --silent express@4.17.1 @types/node@14.0.0 >"$FX/npm-poly.log" 2>&1) ||
		{ tail -20 "$FX/npm-poly.log" >&2; exit 1; }
	touch "$FX/rootfs-poly.done"
fi

if [ ! -f "$FX/poly.tar" ]; then
	log "assembling poly.tar"
	mkdir -p "$FX/work"
	go run ./internal/testutil/mkimage -tag bulkhead-poly:latest \
		-docker-archive "$FX/poly.tar.tmp" -work "$FX/work" \
		-state "$FX/rootfs-base=debootstrap --variant=minbase bookworm" \
		-state "$FX/rootfs-app=RUN apt-get install -y --no-install-recommends curl ca-certificates && npm install lodash@4.17.15 minimist@1.2.0 && go build -o /app/bin/demo" \
		-state "$FX/rootfs-poly=RUN apt-get install -y libjackson2-databind-java python3-requests python3-venv && python3 -m venv /app/venv && npm install express@4.17.1 @types/node@14.0.0" \
		-cmd /app/fetch.sh
	mv "$FX/poly.tar.tmp" "$FX/poly.tar"
	rm -rf "$FX/work"
fi
log "ready in $FX"
