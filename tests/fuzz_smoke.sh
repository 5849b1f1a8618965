#!/usr/bin/env bash
# Fuzz smoke test: builds every cargo-fuzz target in fuzz/ and runs each for
# ${FUZZ_SECONDS:-60} seconds from the committed seeds (fuzz/corpus/<target>) plus a working
# corpus kept under fuzz/target/. Fails on any crash, timeout, leak or out-of-memory; appends
# the executions per target to ${FUZZ_LOG:-fuzz/target/fuzz-runs.log}.
#
# The machine has stable Rust only: cargo-fuzz's nightly flags are enabled with
# RUSTC_BOOTSTRAP=1. cargo-fuzz is installed into target/tools when missing.
# FUZZ_TARGETS="read_log state_load" runs a subset; FUZZ_LAMBDA=1 adds lambda_event.
#
# Built without AddressSanitizer and without trace-compares (see docs/reliability.md): the
# code under test has no `unsafe` (the workspace denies it), ASAN tripled the time per
# execution, and comparison tracing halved it again with no coverage gained on these targets.
# FUZZ_SANITIZER=address FUZZ_TRACE_COMPARES=1 builds the instrumented variant. Inputs are
# capped at FUZZ_MAX_LEN (4096) bytes: the fuzz build reads through 256-byte buffers, so line,
# block and member boundaries all fall inside inputs that small. The samples in
# ../shared/realworld (FLOODGATE_REALWORLD) are added to the working corpus as seeds at fuzz
# time (never to the repository).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export RUSTC_BOOTSTRAP=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0}
export PATH="$root/target/tools/bin:$PATH"
seconds=${FUZZ_SECONDS:-60}
log=${FUZZ_LOG:-$root/fuzz/target/fuzz-runs.log}
start=$SECONDS

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz into target/tools"
  cargo install --locked cargo-fuzz --root "$root/target/tools" || exit 1
fi

# lambda_event needs the AWS SDK (slow to build instrumented): only with FUZZ_LAMBDA=1.
features=(--sanitizer "${FUZZ_SANITIZER:-none}")
[ "${FUZZ_TRACE_COMPARES:-0}" = 1 ] || features+=(--no-trace-compares)
if [ "${FUZZ_LAMBDA:-0}" = 1 ]; then
  features+=(--features lambda)
  all=$(cd fuzz && cargo fuzz list)
else
  all=$(cd fuzz && cargo fuzz list | grep -vx lambda_event)
fi
targets=${FUZZ_TARGETS:-$all}
mkdir -p "$(dirname "$log")" fuzz/target
echo "fuzz: building $(echo $targets | wc -w) targets"
build() {
  if [ -n "${FUZZ_TARGETS:-}" ]; then
    for t in $targets; do cargo fuzz build --fuzz-dir fuzz "${features[@]}" "$t" || return 1; done
  else
    cargo fuzz build --fuzz-dir fuzz "${features[@]}" # all targets, one build
  fi
}
if ! build >fuzz/target/build.log 2>&1; then
  tail -40 fuzz/target/build.log
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi

bin_dir=fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release
passed=0
failed=0
failures=""
realworld=${FLOODGATE_REALWORLD:-$root/../shared/realworld}
# Seeds from the real-world samples: the first 4 KiB of each log, as read_log inputs (two
# option bytes: default options) and as pipeline inputs.
seed_realworld() {
  local t=$1 work=$2 prefix=$3 f name
  [ -d "$realworld" ] || return 0
  find "$realworld" -type f ! -name '*.md' ! -name '*.tsv' | while read -r f; do
    name=rw-$(basename "$f")
    # A gzip'd sample is seeded decompressed: 4 KiB of it inflate to ~100 KiB, which made
    # its mutants 20 times slower than any other input (the .gz seeds in fuzz/corpus are small).
    case $f in
      *.gz) { printf "$prefix"; gzip -dc "$f" 2>/dev/null | head -c 4096; } >"$work/${name%.gz}" ;;
      *) { printf "$prefix"; head -c 4096 "$f"; } >"$work/$name" ;;
    esac
  done
}
for t in $targets; do
  work="fuzz/target/corpus/$t"
  mkdir -p "$work" "fuzz/corpus/$t" "fuzz/artifacts/$t"
  case $t in
    read_log) seed_realworld "$t" "$work" '\x09\x00' ;;
    pipeline) seed_realworld "$t" "$work" '' ;;
  esac
  out="fuzz/target/$t.out"
  # The binary cargo-fuzz built (not `cargo fuzz run`, which would rebuild on any change).
  "$bin_dir/$t" "$work" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="${FUZZ_MAX_LEN:-4096}" \
    -print_final_stats=1 >"$out" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out" | grep -o '[0-9]*$' | tail -1)
  execs=${execs:-0}
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $t seconds=$seconds execs=$execs per_second=$((execs / seconds)) rc=$rc" >>"$log"
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t ok ($execs executions in ${seconds}s, $((execs / seconds))/s)"
  else
    failed=$((failed + 1))
    failures="$failures $t"
    echo "fuzz: $t FAILED (rc=$rc); last output:"
    grep -v '^#[0-9]' "$out" | tail -40
    ls fuzz/artifacts/"$t"/ 2>/dev/null | sed 's/^/  artifact: /'
  fi
done
echo "fuzz: total executions per target appended to $log ($((SECONDS - start))s)"
[ -n "$failures" ] && echo "fuzz: failed:$failures"
echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
