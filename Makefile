# bulkhead: make build | demo | test | fixtures | bench | fuzz
GO       ?= go
BIN      ?= bin/bulkhead
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/bulkhead-sec/bulkhead/internal/cli.Version=$(VERSION)
export BULKHEAD_FIXTURES ?= $(CURDIR)/.fixtures
FUZZTIME ?= 30s

.PHONY: build demo test test-short fixtures bench fuzz vet clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bulkhead

fixtures:
	bash scripts/fixtures.sh

# The main job on a bundled demo: a Debian 12 image assembled from a real
# debootstrap root filesystem plus an app layer (curl, an npm app, a Go
# binary); a vulnerability DB imported from the real OSV advisories in
# ../shared/osv-sample (OSV_SAMPLE=DIR to use another export); a cold scan
# for vulnerabilities and misconfigurations; then a CycloneDX SBOM.
OSV_SAMPLE ?= $(abspath $(CURDIR)/../shared/osv-sample)
DEMO_CACHE := $(BULKHEAD_FIXTURES)/demo-cache
demo: build fixtures
	@test -d "$(OSV_SAMPLE)" || { echo "no OSV data at $(OSV_SAMPLE): set OSV_SAMPLE=DIR (osv.dev <Ecosystem>/all.zip files)"; exit 2; }
	@rm -rf $(DEMO_CACHE)
	@echo "== bulkhead db import $(OSV_SAMPLE)"
	$(BIN) --cache-dir $(DEMO_CACHE) db import $(OSV_SAMPLE)
	@echo
	@echo "== bulkhead scan image docker-archive:.fixtures/demo.tar --scanners vuln,misconfig (cold cache)"
	-$(BIN) --cache-dir $(DEMO_CACHE) scan image docker-archive:$(BULKHEAD_FIXTURES)/demo.tar --scanners vuln,misconfig
	@echo
	@echo "== the same image as an OCI layout with gzip layers, SBOM in CycloneDX 1.6 (first 25 lines)"
	$(BIN) --cache-dir $(DEMO_CACHE) sbom oci-layout:$(BULKHEAD_FIXTURES)/demo-oci --format cyclonedx-json -o $(BULKHEAD_FIXTURES)/demo.cdx.json
	@head -25 $(BULKHEAD_FIXTURES)/demo.cdx.json
	@echo "... full SBOM in $(BULKHEAD_FIXTURES)/demo.cdx.json"
	@echo
	@echo "== the CI gate: bulkhead scan image docker-archive:.fixtures/demo.tar --fail-on HIGH -q (exit 1 = blocked, and why)"
	@$(BIN) --cache-dir $(DEMO_CACHE) scan image docker-archive:$(BULKHEAD_FIXTURES)/demo.tar --fail-on HIGH -q >$(BULKHEAD_FIXTURES)/gate.txt; \
		code=$$?; sed -n '/^BLOCKED\|^PASSED/,$$p' $(BULKHEAD_FIXTURES)/gate.txt; echo "exit code: $$code"

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# Runs every test, including the seed corpus of every fuzz target.
test: fixtures vet
	$(GO) test -count=1 ./...

test-short:
	$(GO) test -short ./...

bench: fixtures
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Runs each fuzz target for FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin
