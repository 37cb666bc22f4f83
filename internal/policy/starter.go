package policy

// Starter is the commented policy `bulkhead policy init` writes. A test
// parses it and evaluates it, so it stays valid.
const Starter = `# bulkhead policy: what blocks a pipeline (exit code 1) and what only warns.
# Reference: docs/ci.md. Check it against a saved report without rescanning:
#   bulkhead scan image REF --format json -o report.json
#   bulkhead policy test .bulkhead/policy.yaml --report report.json
apiVersion: bulkhead.dev/v1
kind: Policy
metadata:
  name: production
rules:
  # Vulnerabilities: minSeverity or severity: [..], fixable, minCVSS,
  # fixOlderThanDays (the advisory's publication date stands in for the
  # fix date), ids (always match), exceptIds (never match).
  - name: fixable-critical-high
    action: block
    vulnerabilities:
      minSeverity: HIGH
      fixable: true

  - name: stale-fixes
    description: a fix has been out for a month and nobody upgraded
    action: block
    vulnerabilities:
      minSeverity: MEDIUM
      fixOlderThanDays: 30

  - name: unfixed-critical
    action: warn
    vulnerabilities:
      severity: [CRITICAL]
      fixable: false

  # Any secret, any malware.
  - name: no-secrets
    action: block
    secrets: {}
  - name: no-malware
    action: block
    malware: {}

  # Misconfigurations (bulkhead checks list): by id (globs) and/or severity.
  - name: misconfig-high
    action: block
    misconfig:
      minSeverity: HIGH
  - name: misconfig-rest
    action: warn
    misconfig:
      minSeverity: LOW

  # Licences: SPDX ids, globs allowed. "A OR B" is denied only when both are.
  - name: licences
    action: warn
    licenses:
      deny: [AGPL-*, SSPL-1.0]

  # Where images come from: the scanned image and every FROM in Dockerfiles.
  # * is one path segment, ** any number.
  # - name: trusted-sources
  #   action: block
  #   sources:
  #     allowed: ["docker.io/library/*", "registry.example.com/**"]
  #     requireDigest: true

  # Approved base images: the image's bottom layers must be one approved
  # base's layers (record them: bulkhead policy baseline REF -o .bulkhead/bases.yaml).
  # The file is relative to this policy.
  # - name: approved-base
  #   action: block
  #   approvedBase:
  #     file: bases.yaml

  # The image configuration.
  - name: image-hygiene
    action: warn
    image:
      requiredLabels: [org.opencontainers.image.source]
      maxAgeDays: 180
      # nonRoot: true    # the misconfig rules above cover it (BH-IMG-001) when
      #                  # the misconfig scanner runs; this works without it

  # Custom rules: a CEL expression over the JSON report's fields
  # (artifact, os, packages, vulnerabilities, secrets, malware,
  # misconfigurations) that is true when the rule is violated.
  - name: no-critical-openssl
    action: block
    cel: vulnerabilities.exists(v, v.package.name == "openssl" && v.severity == "CRITICAL")
    message: upgrade openssl; a CRITICAL openssl vulnerability never ships
`

// StarterIgnore is an example ignore file, for docs and tests.
const StarterIgnore = `# Accepted risks. Every entry needs a reason and an expiry date; an expired
# entry stops applying and is reported.
ignores:
  - id: CVE-2024-5535        # any id or alias (CVE, GHSA, check id, secret rule or fingerprint)
    package: openssl         # optional scope: package, path, image (globs)
    reason: not reachable, no TLS server in this image
    expires: 2026-12-31
    owner: platform-team
`
