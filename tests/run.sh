#!/usr/bin/env bash
# The whole test suite, with its own set-up: Python packages, Debian's Chromium, a running PostgreSQL.
# Usage: bash tests/run.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-test.txt

# Debian packages: Chromium for the browser tests, poppler-utils to render the PDF scorecards to images.
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then
  echo "installing chromium and poppler-utils for the browser and report tests" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium poppler-utils fonts-dejavu-core >/dev/null
fi

# PostgreSQL: use the local server on 127.0.0.1:5432; start the cluster if it is installed but stopped.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
fi

# Known vulnerabilities in the runtime dependencies fail the run (after the tests, so their results are still
# seen); an unreachable audit service only warns.
audit_status=0
python3 tests/dependency_audit.py requirements.txt || audit_status=$?

tests_status=0
python3 -m pytest -p no:cacheprovider -q "$@" || tests_status=$?
if [ "$audit_status" -ne 0 ]; then
  echo "FAILED: the dependency audit found known vulnerabilities (VULNERABLE lines before the tests)" >&2
fi
if [ "$tests_status" -ne 0 ]; then exit "$tests_status"; fi
exit "$audit_status"
