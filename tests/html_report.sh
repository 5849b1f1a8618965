#!/usr/bin/env bash
# Browser test of report.html: open the sample report and a hostile report in headless
# Chromium and check that the page loads without console errors or CSP violations, that the
# inline script ran (sort buttons and filter inserted), that sorting and filtering work, that a
# user agent containing <script> is shown as text, and that the page prints. Also refreshes
# docs/report-screenshot.png.
#
#   tests/html_report.sh                    # from the repository root
#
# Installs Debian's chromium when /usr/bin/chromium is missing (needs root).
# Exits non-zero on any failed check and ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; }
check() { # check "description" command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
die() {
  echo "error: $*" >&2
  echo "$PASS passed, $((FAIL + 1)) failed"
  exit 1
}

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "# installing chromium"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >/dev/null ||
    die "could not install chromium"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
browser() { # browser OUT ERR ARGS... : run headless chromium, DOM/output to OUT, log to ERR
  local out=$1 err=$2
  shift 2
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$WORK")" --enable-logging=stderr --v=0 "$@" >"$out" 2>"$err"
}
no_console() { # the page never logs: any console line is an error, a CSP violation or worse
  if grep -q 'CONSOLE' "$1"; then
    grep 'CONSOLE' "$1" | head -5
    return 1
  fi
}

# --- the pages ---------------------------------------------------------------------------
SAMPLE=$ROOT/target/html-test/report.html
# The debug build: `cargo test --workspace` has just built it, a release build would cost minutes.
cargo run --quiet -p floodgate-cli -- analyze --quiet sample-logs --out target/html-test >"$WORK/cli.log" 2>&1 ||
  die "floodgate analyze failed: $(tail -5 "$WORK/cli.log")"
echo "# sample report from: floodgate analyze sample-logs"
# The hostile page comes from the core's tests.
cargo test --quiet -p floodgate-core --test report_render -- --ignored write_ >"$WORK/test.log" 2>&1 ||
  die "cargo test write_ failed: $(tail -5 "$WORK/test.log")"
HOSTILE=$ROOT/target/report-sample/hostile.html
FLOOD=$ROOT/target/report-sample/flood.html
[ -s "$FLOOD" ] || die "no $FLOOD"
[ -s "$SAMPLE" ] || die "no $SAMPLE"
[ -s "$HOSTILE" ] || die "no $HOSTILE"

# --- sample report: loads, script ran, content present --------------------------------------
browser "$WORK/sample.dom" "$WORK/sample.err" --dump-dom "file://$SAMPLE"
DOM=$WORK/sample.dom
check "sample page loads without console errors or CSP violations" no_console "$WORK/sample.err"
check "inline script ran (CSP hash matches)" grep -q '<html lang="en" class="js">' "$DOM"
check "filter input inserted by the script" grep -q '<input type="search" class="filter"' "$DOM"
check "sort buttons inserted by the script" grep -q '<button type="button" class="sort">' "$DOM"
check "requests-per-minute chart rendered" grep -q '<svg class="chart timeline"' "$DOM"
check "top-offenders chart rendered" grep -q '<svg class="chart offenders"' "$DOM"
check "bans table present" grep -q '<table class="sortable" data-name="bans">' "$DOM"
for cidr in 192.0.2.50/32 198.51.100.7/32 203.0.113.10/32 203.0.113.11/32 203.0.113.12/32 2001:db8:bad:1::/64; do
  check "ban row for $cidr" grep -q ">$cidr<" "$DOM"
done
check "no external resource in the page" bash -c "! grep -Eq '(src|href)=\"(https?:)?//|url\\(|@import' '$SAMPLE'"

# --- sorting and filtering really work: a copy with a probe script appended ------------------
PROBE='<script>(function(){var t=document.querySelector("table[data-name=bans]");
var th=[].slice.call(t.tHead.rows[0].cells).filter(function(c){return /offences/i.test(c.textContent)})[0];
th.querySelector("button.sort").click();
var order=[].map.call(t.tBodies[0].rows,function(r){return r.cells[2].textContent.trim()}).join(",");
var f=t.parentNode.previousElementSibling.querySelector("input.filter");
f.value="login";f.dispatchEvent(new Event("input"));
var shown=[].filter.call(t.tBodies[0].rows,function(r){return !r.hidden}).length;
var p=document.createElement("pre");p.id="probe";p.textContent="sort="+th.getAttribute("aria-sort")+" order="+order+" shown="+shown+" of "+t.tBodies[0].rows.length;
document.body.appendChild(p)})()</script>'
# The probe is not in the page's CSP, so the copy drops the policy (the original keeps it).
sed -e 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' "$SAMPLE" >"$WORK/probe.html"
printf '%s\n' "$PROBE" >>"$WORK/probe.html"
browser "$WORK/probe.dom" "$WORK/probe.err" --dump-dom "file://$WORK/probe.html"
PROBED=$(grep -o '<pre id="probe">[^<]*' "$WORK/probe.dom" | sed 's/.*>//')
echo "# probe: $PROBED"
check "probe ran without console errors" no_console "$WORK/probe.err"
check "clicking Offences sorts descending" grep -q 'sort=descending' <<<"$PROBED"
descending() { # the probe's order= list is non-empty and non-increasing
  local order
  order=$(sed -n 's/.*order=\([^ ]*\).*/\1/p' <<<"$PROBED" | tr ',' '\n')
  [ -n "$order" ] && [ "$(sort -rn <<<"$order")" = "$order" ]
}
check "rows are in descending offence order" descending
check "filtering 'login' hides the other bans" grep -Eq 'shown=[1-5] of 6' <<<"$PROBED"

# --- layout at a 1920-pixel screen: the page uses the width, no table needs a scrollbar ------
LAYOUT='<script>(function(){var m=document.querySelector("main");
var wide=[].filter.call(document.querySelectorAll(".scroll"),function(s){return s.scrollWidth>s.clientWidth+1})
.map(function(s){var t=s.querySelector("table");return t?t.getAttribute("data-name"):"?"});
var p=document.createElement("pre");p.id="layout";p.textContent="main="+Math.round(m.getBoundingClientRect().width)+" scrolling="+(wide.join(",")||"none");
document.body.appendChild(p)})()</script>'
sed -e 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' "$SAMPLE" >"$WORK/layout.html"
printf '%s\n' "$LAYOUT" >>"$WORK/layout.html"
browser "$WORK/layout.dom" "$WORK/layout.err" --window-size=1920,1080 --dump-dom "file://$WORK/layout.html"
LAID=$(grep -o '<pre id="layout">[^<]*' "$WORK/layout.dom" | sed 's/.*>//')
echo "# layout at 1920 px: $LAID"
wide_main() { local w; w=$(sed -n 's/.*main=\([0-9]*\).*/\1/p' <<<"$LAID"); [ -n "$w" ] && [ "$w" -gt 1600 ]; }
check "at 1920 px the page is not capped at 1,200 px" wide_main
check "at 1920 px no table needs a horizontal scrollbar" grep -q 'scrolling=none' <<<"$LAID"
browser "$WORK/shot1920.out" "$WORK/shot1920.err" --hide-scrollbars --window-size=1920,1400 \
  --screenshot="$WORK/report-1920.png" "file://$SAMPLE"
check "1920-pixel screenshot written" test -s "$WORK/report-1920.png"
cp "$WORK/report-1920.png" "$ROOT/target/report-1920.png" 2>/dev/null || true

# --- hostile report: payloads are text, nothing injected -----------------------------------
browser "$WORK/hostile.dom" "$WORK/hostile.err" --dump-dom "file://$HOSTILE"
HDOM=$WORK/hostile.dom
check "hostile page loads without console errors" no_console "$WORK/hostile.err"
check "hostile page: script ran" grep -q '<html lang="en" class="js">' "$HDOM"
check "user agent <script> shown as text" grep -q 'ua a|b`c`' "$HDOM"
check "escaped payload text in the DOM" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$HDOM"
check "no injected <img> element" bash -c "! grep -q '<img' '$HDOM'"
check "exactly one script element (ours)" test "$(grep -o '<script' "$HDOM" | wc -l)" -eq 1
check "no injected <script>alert element" bash -c "! grep -q '<script>alert' '$HDOM'"

# --- a flood-sized report (40,000 bans, 100 range bans): opens in seconds, summary present ----
t0=$(date +%s%N)
browser "$WORK/flood.dom" "$WORK/flood.err" --dump-dom "file://$FLOOD"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# flood report: $(stat -c %s "$FLOOD") bytes, loaded and rendered in ${ms} ms"
FDOM=$WORK/flood.dom
check "flood page loads without console errors" no_console "$WORK/flood.err"
check "flood page: script ran" grep -q '<html lang="en" class="js">' "$FDOM"
check "flood page: the attack at a glance" grep -q 'id="attack"' "$FDOM"
check "flood page: range bans listed" grep -q 'id="ranges"' "$FDOM"
check "flood page: a rented range shown" grep -q '45.0.0.0/24' "$FDOM"
check "flood page opens within 15 s (headless, 2 shared cores)" test "$ms" -lt 15000

# --- printing and the screenshot -------------------------------------------------------------
browser "$WORK/print.out" "$WORK/print.err" --print-to-pdf="$WORK/report.pdf" --no-pdf-header-footer "file://$SAMPLE"
check "page prints to PDF" test -s "$WORK/report.pdf"
mkdir -p docs
browser "$WORK/shot.out" "$WORK/shot.err" --hide-scrollbars --window-size=1280,2000 \
  --screenshot="$ROOT/docs/report-screenshot.png" "file://$SAMPLE"
check "screenshot written" test -s docs/report-screenshot.png
check "screenshot under 1 MB" test "$(stat -c %s docs/report-screenshot.png)" -lt 1000000

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
