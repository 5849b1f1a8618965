#!/usr/bin/env bash
# Runs every test of the project, installing what it needs on a fresh machine:
# the gates (rustfmt, clippy, rustdoc with warnings as errors), Rust unit/property/end-to-end
# tests, the CDK stack's tests (npm ci in infra/), and each suite script listed below.
# Exits non-zero on the first failing suite. A suite that exits 77 was SKIPPED (a local service
# it needs is missing outside CI=true); skipped suites are named in the final count.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

passed=0
skipped=()
step() {
  local name=$1
  shift
  echo
  echo "=== ${name} ==="
  local start=$SECONDS rc=0
  "$@" || rc=$?
  if [ "$rc" = 77 ]; then
    skipped+=("$name")
    echo "=== ${name}: SKIPPED ($((SECONDS - start))s) ==="
    return 0
  fi
  if [ "$rc" != 0 ]; then
    echo "=== ${name}: FAILED (exit $rc, $((SECONDS - start))s) ==="
    echo "test suites: ${passed} passed, 1 failed, ${#skipped[@]} skipped"
    exit "$rc"
  fi
  passed=$((passed + 1))
  echo "=== ${name}: ok ($((SECONDS - start))s) ==="
}

step "gates: rustfmt, clippy -D warnings, rustdoc -D warnings" bash scripts/gates.sh
step "rust: unit, property and end-to-end tests" cargo test --workspace
step "infra: CDK stack tests" bash -c 'cd infra && npm ci --no-audit --no-fund && npm test'
step "report.html in headless Chromium" bash tests/html_report.sh
step "Lambda and CLI against a local AWS endpoint (moto)" bash tests/aws/run.sh
# A fuzz smoke run per target; longer campaigns: FUZZ_SECONDS=600 bash tests/fuzz_smoke.sh
step "fuzz smoke (${FUZZ_SECONDS:-20}s per target)" env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash tests/fuzz_smoke.sh

echo
if [ "${#skipped[@]}" -gt 0 ]; then
  echo "skipped: ${skipped[*]}"
fi
echo "test suites: ${passed} passed, 0 failed, ${#skipped[@]} skipped"
