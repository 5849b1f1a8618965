#!/usr/bin/env bash
# floodgate performance benchmark: ONE command from a fresh machine to docs/performance.md.
#
#   bash bench/run.sh                       # 300 MB per format (FLOODGATE_BENCH_MB=300)
#   FLOODGATE_BENCH_QUICK=1 bash bench/run.sh   # ~30 MB smoke run
#
# Installs hyperfine, pigz, isal (igzip), goaccess and GNU time (apt-get, as root), generates the corpora
# with floodgate-loggen into bench/corpus/ (gitignored), builds release binaries, runs every
# comparison with hyperfine --export-json and /usr/bin/time -v, runs the criterion parse
# benches on the same files, and writes docs/performance.md (bench/report.py).
# Env: FLOODGATE_BENCH_MB (size per format), FLOODGATE_BENCH_QUICK=1, FLOODGATE_BENCH_RUNS
# (hyperfine runs, default 5), FLOODGATE_BENCH_MEM_MAX (largest client count, default 1000000),
# FLOODGATE_BENCH_SKIP_CRITERION=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MB=${FLOODGATE_BENCH_MB:-300}
MEM_MAX=${FLOODGATE_BENCH_MEM_MAX:-1000000}
if [ "${FLOODGATE_BENCH_QUICK:-0}" = 1 ]; then
    MB=30
fi
RUNS=${FLOODGATE_BENCH_RUNS:-5}
CORPUS=$ROOT/bench/corpus/$MB
RES=$ROOT/bench/corpus/results-$MB
mkdir -p "$CORPUS" "$RES"

log() { printf '\n== %s\n' "$*" >&2; }

# --- tools ------------------------------------------------------------------------------
need=()
for t in hyperfine pigz goaccess; do command -v "$t" >/dev/null || need+=("$t"); done
command -v igzip >/dev/null || need+=(isal) # ISA-L's igzip: the fastest inflate on the machine
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v python3 >/dev/null || { apt-get install -y -qq python3 >/dev/null; }

# The machine may be shared: wait until no compiler runs before each timing.
quiet() {
    while pgrep 'cargo|rustc|cc1' >/dev/null; do sleep 5; done
}

# --- build ------------------------------------------------------------------------------
log "building release binaries"
cargo build --release -q -p floodgate-cli -p floodgate-loggen
cargo build --release -q -p floodgate-core --example key_memory --example invocation_cost --example read_split
cargo build --release -q -p floodgate-lambda --example scale_out
FG=$ROOT/target/release/floodgate
GEN=$ROOT/target/release/floodgate-loggen

# --- corpora ----------------------------------------------------------------------------
# Per format: the loggen folder (many files, for --jobs scaling) and one multi-member .log.gz
# (the files concatenated in order, exactly as zcat/pigz read it).
gen() { # name format size_mb scenario [loggen args…]
    local name=$1 fmt=$2 size=$3 scenario=$4
    shift 4
    if [ ! -s "$CORPUS/$name.log.gz" ]; then
        log "generating $name ($size MB of $fmt)"
        rm -rf "${CORPUS:?}/$name"
        "$GEN" --out "$CORPUS/$name" --formats "$fmt" --scenario "$scenario" --size "${size}MB" \
            --seed 1 --compression default "$@" >&2
        find "$CORPUS/$name" -name '*.gz' | LC_ALL=C sort | xargs cat >"$CORPUS/$name.log.gz"
    fi
}
for f in waf cloudfront alb; do gen "$f" "$f" "$MB" mixed; done
# Linearity: the same traffic at a third and at full size over 10 minutes, so the size (not
# the scenario's minimum two hours) decides the volume.
gen lin-third waf $((MB / 3)) background --duration 10m
gen lin-full waf "$MB" background --duration 10m
[ -s "$CORPUS/cloudfront.log" ] || zcat "$CORPUS/cloudfront.log.gz" >"$CORPUS/cloudfront.log"
for f in waf cloudfront alb lin-third lin-full; do
    [ -s "$CORPUS/$f.bytes" ] || zcat "$CORPUS/$f.log.gz" | wc -c >"$CORPUS/$f.bytes"
done

# Memory corpora: N distinct IPv4 clients, two requests each, plain CloudFront lines.
python3 - "$CORPUS" 10 10000 100000 "$MEM_MAX" <<'EOF'
import os, sys
out = sys.argv[1]
for n in map(int, sys.argv[2:]):
    path = f"{out}/clients-{n}.log"
    if os.path.exists(path):
        continue
    with open(path, "w") as f:
        f.write("#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status\n")
        for i in range(n):
            ip = 0x0B000000 + i
            a = f"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}"
            s = i % 3600
            for k in (0, 2):
                t = s + k
                f.write(f"2026-11-02\t08:{t // 60 % 60:02d}:{t % 60:02d}\t{a}\tGET\t/\t200\n")
EOF
cat >"$CORPUS/one-rule.toml" <<'EOF'
[[rules]]
name = "flood"
window = "5m"
limit = 600

[allow]
cidrs = []
EOF

# --- timings ----------------------------------------------------------------------------
hf() { # name, then hyperfine arguments
    local name=$1
    shift
    quiet
    log "hyperfine: $name"
    hyperfine --style basic --warmup 1 --export-json "$RES/$name.json" "$@" >&2
}
A="$FG analyze --jobs 1 --quiet --out $RES/reports"

for f in waf cloudfront alb; do
    hf "$f" --runs "$RUNS" \
        -n zcat "zcat $CORPUS/$f.log.gz > /dev/null" \
        -n pigz "pigz -dc $CORPUS/$f.log.gz > /dev/null" \
        -n igzip "igzip -dc $CORPUS/$f.log.gz > /dev/null" \
        -n floodgate "$A $CORPUS/$f.log.gz"
done

hf python --runs 2 \
    -n python "python3 $ROOT/bench/waf_python_ref.py $CORPUS/waf.log.gz > /dev/null" \
    -n floodgate "$A $CORPUS/waf.log.gz"

# GoAccess 1.7's predefined CLOUDFRONT format expects one column after cs-protocol-version;
# loggen writes the 24 classic columns, so the same format minus that trailing skip is used.
GA_FMT='%d\t%t\t%^\t%b\t%h\t%m\t%^\t%r\t%s\t%R\t%u\t%q\t%^\t%C\t%^\t%^\t%^\t%^\t%T\t%^\t%K\t%k\t%^\t%H'
hf goaccess --runs 2 \
    -n goaccess "goaccess $CORPUS/cloudfront.log --log-format='$GA_FMT' --date-format=%Y-%m-%d --time-format=%T -o $RES/goaccess-output.json > /dev/null 2>&1" \
    -n floodgate "$A $CORPUS/cloudfront.log"

DIRS="$CORPUS/waf $CORPUS/cloudfront $CORPUS/alb"
hf jobs --runs 3 \
    -n jobs1 "$FG analyze --jobs 1 --quiet --out $RES/reports $DIRS" \
    -n jobs2 "$FG analyze --jobs 2 --quiet --out $RES/reports $DIRS"

# One big object, the Lambda's case at 1,769 MB (two vCPUs): --jobs 2 inflates on one core and
# parses on both (read_object_par). The load seen before each run is kept beside the timings.
for f in waf cloudfront alb; do
    quiet
    uptime >"$RES/onefile-$f.load"
    hf "onefile-$f" --runs "$RUNS" \
        -n jobs1 "$FG analyze --jobs 1 --quiet --out $RES/reports $CORPUS/$f.log.gz" \
        -n jobs2 "$FG analyze --jobs 2 --quiet --out $RES/reports $CORPUS/$f.log.gz"
    # Where the time goes in the read itself: inflating alone, one thread, two threads.
    "$ROOT/target/release/examples/read_split" "$CORPUS/$f.log.gz" >"$RES/read_split-$f.json"
done

hf linear --runs "$RUNS" \
    -n third "$A $CORPUS/lin-third.log.gz" \
    -n full "$A $CORPUS/lin-full.log.gz"

# --- a distributed flood: the attack floodgate exists for ---------------------------------
# An hour of WAF logs: ordinary clients with a few requests each and, from minute 30, attackers
# a few times over a 50-per-5-minutes rule, half packed 200 to a /24, some inside carrier NATs.
if [ "${FLOODGATE_BENCH_QUICK:-0}" = 1 ]; then
    BOT=(--botnet-attackers 4000 --botnet-ordinary 20000)
else
    BOT=()
fi
if [ ! -s "$CORPUS/botnet/manifest.json" ]; then
    log "generating the botnet corpus"
    rm -rf "${CORPUS:?}/botnet"
    "$GEN" --out "$CORPUS/botnet" --formats waf --scenario botnet --duration 1h --flood-limit 50 \
        --seed 1 --compression fast "${BOT[@]}" >&2
fi
printf '[[rules]]\nname = "flood"\nwindow = "5m"\nlimit = 50\n' >"$CORPUS/botnet.toml"
du -sb "$CORPUS/botnet" | cut -f1 >"$RES/botnet-gz.bytes"
B="$FG analyze --quiet --config $CORPUS/botnet.toml --out $RES/botnet-reports"
hf botnet --runs 3 \
    -n jobs1 "$B --jobs 1 $CORPUS/botnet" \
    -n jobs2 "$B --jobs 2 $CORPUS/botnet"
rm -f "$RES/botnet.state"
$B --state "$RES/botnet.state" "$CORPUS/botnet"
# One more object on top of that state: the work of one Lambda invocation during the attack.
last=$(find "$CORPUS/botnet" -name '*.gz' | LC_ALL=C sort | tail -1)
for _ in 1 2 3; do
    quiet
    "$ROOT/target/release/examples/invocation_cost" "$RES/botnet.state" "$CORPUS/botnet.toml" "$last"
done >"$RES/invocation_cost.jsonl"
stat -c %s "$last" >"$RES/invocation-object.bytes"
# Concurrent invocations on one state object: the handler over in-memory S3/WAF with S3's
# latencies injected, the botnet hour cut into ~4 MB objects (see the example's docs).
quiet
log "scale-out: 1, 2 and 4 invocations at once"
# On a fifth of the botnet (8,000 attackers among 40,000): the whole hour takes minutes per K.
if [ ! -s "$CORPUS/botnet-fifth/manifest.json" ]; then
    "$GEN" --out "$CORPUS/botnet-fifth" --formats waf --scenario botnet --duration 1h --flood-limit 50 \
        --botnet-attackers 8000 --botnet-ordinary 40000 --compression fast >/dev/null
fi
"$ROOT/target/release/examples/scale_out" "$CORPUS/botnet-fifth" 1793610300000 1 2 4 \
    | grep '"invocations_at_once"' >"$RES/scale_out.jsonl"
log "scale-out under a steady flow: 4 and 8 objects a second, 1 and 2 invocations"
for r in 4 8; do
    ARRIVALS_PER_S=$r "$ROOT/target/release/examples/scale_out" "$CORPUS/botnet-fifth" 1793610300000 1 2 \
        | grep '"invocations_at_once"'
done >"$RES/scale_out_paced.jsonl"
log "scale-out through CloudWatch Logs subscription events (one invocation per ~1 MB event; ~6 min per K)"
SOURCE=cloudwatch-logs "$ROOT/target/release/examples/scale_out" "$CORPUS/botnet-fifth" 1793610300000 1 2 \
    | grep '"invocations_at_once"' >"$RES/scale_out_cwl.jsonl"

# Partials (FLOODGATE_PARTIALS_PREFIX): reading invocations write partials, one reducer commits.
# The whole botnet hour; MODEL_READS gives each reading invocation its own vCPU (timed alone
# first), so K above this machine's cores measures what K Lambda invocations would do.
log "partials: the botnet hour at K = 1, 2, 4, 8 reading invocations (one reducer)"
quiet
PARTIALS=1 MODEL_READS=1 "$ROOT/target/release/examples/scale_out" "$CORPUS/botnet" 1793610300000 1 2 4 8 \
    | grep '"invocations_at_once"' >"$RES/scale_out_partials.jsonl"
log "partials under a paced flow on the whole hour's state: 1 GB a minute on 1, 4 GB a minute on 4"
mkdir -p "$CORPUS/botnet-last15"
find "$CORPUS/botnet" -name '*.gz' | LC_ALL=C sort | tail -3 | while read -r f; do
    ln -sf "$f" "$CORPUS/botnet-last15/$(basename "$f")"
done
{
    PRELOAD_STATE="$RES/botnet.state" PARTIALS=1 MODEL_READS=1 ARRIVALS_PER_S=4 \
        "$ROOT/target/release/examples/scale_out" "$CORPUS/botnet-last15" 1793610300000 1
    PRELOAD_STATE="$RES/botnet.state" PARTIALS=1 MODEL_READS=1 ARRIVALS_PER_S=16 \
        "$ROOT/target/release/examples/scale_out" "$CORPUS/botnet" 1793610300000 4
} | grep '"invocations_at_once"' >"$RES/scale_out_partials_paced.jsonl"
log "partials, streaming: the hour's last 15 minutes as CloudWatch Logs events on the hour's state"
PRELOAD_STATE="$RES/botnet.state" SOURCE=cloudwatch-logs PARTIALS=1 MODEL_READS=1 \
    "$ROOT/target/release/examples/scale_out" "$CORPUS/botnet-last15" 1793610300000 1 2 4 8 \
    | grep '"invocations_at_once"' >"$RES/scale_out_partials_cwl.jsonl"

# --- memory -----------------------------------------------------------------------------
log "peak RSS per distinct client"
: >"$RES/rss.csv"
for n in 10 10000 100000 "$MEM_MAX"; do
    quiet
    /usr/bin/time -v "$FG" analyze --jobs 1 --quiet --config "$CORPUS/one-rule.toml" \
        --out "$RES/reports" "$CORPUS/clients-$n.log" 2>"$RES/time-$n.txt"
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$RES/time-$n.txt")
    echo "$n,$kb" >>"$RES/rss.csv"
done
/usr/bin/time -v "$FG" analyze --jobs 1 --quiet --out "$RES/reports" "$CORPUS/waf.log.gz" \
    2>"$RES/time-waf.txt"
"$ROOT/target/release/examples/key_memory" 10000 100000 "$MEM_MAX" >"$RES/key_memory.csv"

# --- criterion: parse throughput on the same files ----------------------------------------
if [ "${FLOODGATE_BENCH_SKIP_CRITERION:-0}" != 1 ]; then
    quiet
    log "criterion parse benches on $CORPUS"
    FLOODGATE_BENCH_CORPUS=$CORPUS cargo bench -q -p floodgate-core --bench ingest -- parse_ >&2
    FLOODGATE_BENCH_CORPUS_MB=20 cargo bench -q -p floodgate-core --bench engine >&2
fi

# --- report -----------------------------------------------------------------------------
python3 "$ROOT/bench/report.py" "$CORPUS" "$RES" "$ROOT/target/criterion" "$MB" \
    >"$ROOT/docs/performance.md"
log "wrote docs/performance.md"
