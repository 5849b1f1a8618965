#!/usr/bin/env python3
"""Reference: the straightforward Python WAF log parser floodgate is compared against.

It does what the AWS WAF Security Automations log parser does for WAF logs
(source/log_parser/log_parser.py: read the gzipped object, json.loads each line, count requests
per (minute, client IP) with a Counter, then list the IPs over a per-minute threshold). It is
deliberately the plain, idiomatic version, not a tuned one.

Usage: waf_python_ref.py FILE.gz... [--limit N]
"""
import gzip
import json
import sys
from collections import Counter


def main(argv):
    limit = 100
    files = []
    args = iter(argv)
    for a in args:
        if a == "--limit":
            limit = int(next(args))
        else:
            files.append(a)
    counts = Counter()
    records = 0
    rejected = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                    minute = int(entry["timestamp"]) // 60000
                    ip = entry["httpRequest"]["clientIp"]
                except (ValueError, KeyError, TypeError):
                    rejected += 1
                    continue
                counts[(minute, ip)] += 1
                records += 1
    over = sorted({ip for (minute, ip), n in counts.items() if n > limit})
    print(f"{records} records, {rejected} rejected, {len(counts)} (minute, ip) keys, "
          f"{len(over)} over {limit}/min")
    for ip in over:
        print(ip)


if __name__ == "__main__":
    main(sys.argv[1:])
