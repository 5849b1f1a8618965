#!/usr/bin/env bash
# Runs every test of the project, installing what it needs on a fresh machine:
# Rust unit/property/end-to-end tests, the CDK stack's tests (npm ci in infra/),
# and each suite script listed below. Exits non-zero on the first failing suite.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

passed=0
step() {
  local name=$1
  shift
  echo
  echo "=== ${name} ==="
  local start=$SECONDS
  "$@"
  passed=$((passed + 1))
  echo "=== ${name}: ok ($((SECONDS - start))s) ==="
}

step "rust: unit, property and end-to-end tests" cargo test --workspace
step "infra: CDK stack tests" bash -c 'cd infra && npm ci --no-audit --no-fund && npm test'
for suite in tests/html_report.sh tests/aws/run.sh tests/fuzz_smoke.sh; do
  if [ -f "$suite" ]; then
    step "$suite" bash "$suite"
  fi
done

echo
echo "test suites: ${passed} passed, 0 failed"
