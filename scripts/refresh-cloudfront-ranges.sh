#!/usr/bin/env bash
# Rewrites crates/floodgate-core/src/config/cloudfront-origin-facing.txt from AWS's published
# ip-ranges.json (service CLOUDFRONT_ORIGIN_FACING): the list `[source] proxies = ["cloudfront"]`
# stands for. Needs the network; run it before a release and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/floodgate-core/src/config/cloudfront-origin-facing.txt
json=$(mktemp)
trap 'rm -f "$json"' EXIT
curl -fsS -o "$json" https://ip-ranges.amazonaws.com/ip-ranges.json
python3 - "$out" "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
v4 = sorted({p["ip_prefix"] for p in d["prefixes"] if p["service"] == "CLOUDFRONT_ORIGIN_FACING"},
            key=lambda c: tuple(int(x) for x in c.split("/")[0].split(".")))
v6 = sorted({p["ipv6_prefix"] for p in d["ipv6_prefixes"] if p["service"] == "CLOUDFRONT_ORIGIN_FACING"})
if len(v4) < 10:
    sys.exit(f"only {len(v4)} IPv4 ranges: refusing to write a list that short")
with open(sys.argv[1], "w") as f:
    f.write("# CloudFront's origin-facing IP ranges: the addresses CloudFront connects to origins from.\n")
    f.write(f"# From AWS's published ip-ranges.json (service CLOUDFRONT_ORIGIN_FACING), createDate {d['createDate'][:10]}.\n")
    f.write('# [source] proxies = ["cloudfront"] stands for this list. Refresh: bash scripts/refresh-cloudfront-ranges.sh\n')
    f.write("".join(c + "\n" for c in v4 + v6))
print(f"{len(v4)} IPv4 and {len(v6)} IPv6 ranges written to {sys.argv[1]}")
PY
