#!/usr/bin/env bash
# Try the built Lambda locally under cargo-lambda's emulator, against a local moto endpoint:
#   bash scripts/try-lambda-local.sh
# Installs cargo-lambda into target/tools (from crates.io: ~12 minutes the first time) and
# moto into target/venv when missing, starts moto on a free loopback port, creates a bucket and
# two IP sets, uploads one sample log, runs `cargo lambda watch` (which builds and serves
# `bootstrap`) and sends it an S3 notification with `cargo lambda invoke`. Not part of the test
# command (too slow to install in CI); tests/aws/run.sh covers the same handler in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=target/tools
export PATH="$PWD/$tools/bin:$PATH"
if ! command -v cargo-lambda >/dev/null; then
  cargo install --locked cargo-lambda --root "$tools"
fi
venv=target/venv
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'moto[server]>=5,<6'
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto-try.log 2>&1 &
moto=$!
trap 'kill $moto $watch 2>/dev/null || true' EXIT
watch=
sleep 2
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
ids=$("$venv/bin/python" - <<'PY'
import boto3, json, pathlib
s3 = boto3.client("s3"); waf = boto3.client("wafv2")
s3.create_bucket(Bucket="try-logs"); s3.create_bucket(Bucket="try-state")
m = json.loads(pathlib.Path("sample-logs/manifest.json").read_text())
f = next(x for x in m["files"] if x["format"] == "waf")
s3.upload_file("sample-logs/" + f["path"], "try-logs", f["path"])
v4 = waf.create_ip_set(Name="try-v4", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])["Summary"]
v6 = waf.create_ip_set(Name="try-v6", Scope="REGIONAL", IPAddressVersion="IPV6", Addresses=[])["Summary"]
print(f'{f["path"]} try-v4:{v4["Id"]} try-v6:{v6["Id"]}')
PY
)
read -r key v4 v6 <<<"$ids"
export FLOODGATE_STATE_BUCKET=try-state FLOODGATE_STATE_KEY=state/floodgate.state FLOODGATE_REPORTS_PREFIX=reports/
export FLOODGATE_IPV4_SET=$v4 FLOODGATE_IPV6_SET=$v6 FLOODGATE_SCOPE=REGIONAL FLOODGATE_DRY_RUN=false
export FLOODGATE_CONFIG_TOML="$(cat crates/floodgate-core/src/config/default-config.toml)"
cargo lambda watch -p floodgate-lambda &
watch=$!
sleep 60
event=$(python3 -c "import json,sys; print(json.dumps({'Records':[{'eventVersion':'2.1','eventSource':'aws:s3','awsRegion':'us-east-1','eventName':'ObjectCreated:Put','s3':{'bucket':{'name':'try-logs','arn':'arn:aws:s3:::try-logs'},'object':{'key':sys.argv[1],'size':1,'eTag':'x'}}}]}))" "$key")
cargo lambda invoke bootstrap --data-ascii "$event"
