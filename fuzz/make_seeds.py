#!/usr/bin/env python3
"""Regenerate fuzz/corpus/<target>/ seeds (small, committed) from sample-logs/.

Each file: a few real lines, the planted bad lines of the sample corpus, and for read_log a
gzip-wrapped copy. read_log seeds start with two option bytes (line cap, client source), see
fuzz/src/lib.rs `options`. Run from the repository root: python3 fuzz/make_seeds.py
"""
import glob, gzip, os, re, shutil

OUT = "fuzz/corpus"
BAD = re.compile(rb'"clientIp":"[^"]*[^0-9a-fA-F.:"]|\xff|\xfe')


def lines_of(pattern, want_bad=True, n=6):
    path = sorted(glob.glob(pattern, recursive=True))[0]
    data = gzip.open(path).read().split(b"\n")
    head = data[:n]
    # Lines the generator planted as bad (non-UTF-8, odd IPs, broken JSON, odd times).
    bad = [l for l in data if l and (not is_utf8(l) or b"1970" in l or l.count(b'"') % 2 or b"999." in l)]
    return head + (bad[:4] if want_bad else [])


def is_utf8(b):
    try:
        b.decode()
        return True
    except UnicodeDecodeError:
        return False


def put(target, name, data):
    os.makedirs(f"{OUT}/{target}", exist_ok=True)
    with open(f"{OUT}/{target}/{name}", "wb") as f:
        f.write(data)


shutil.rmtree(OUT, ignore_errors=True)
waf = lines_of("sample-logs/AWSLogs/**/*0810Z_7070c7da.log.gz")
alb = lines_of("sample-logs/AWSLogs/**/*0820Z_10.0.0.5_1426c83e.log.gz")
cf = lines_of("sample-logs/cloudfront/*09.6fe018ca.gz", n=8)
logs = {"waf": waf, "alb": alb, "cloudfront": cf}
for fmt, ls in logs.items():
    body = b"\n".join(ls) + b"\n"
    put("read_log", f"{fmt}", b"\x09\x00" + body)
    put("read_log", f"{fmt}-xff", b"\x09\x03" + body)
    put("read_log", f"{fmt}-crlf-shortcap", b"\x03\x00" + body.replace(b"\n", b"\r\n"))
    put("read_log", f"{fmt}.gz", b"\x09\x00" + gzip.compress(body, 1))
    put("pipeline", f"{fmt}", body + body)
for i, l in enumerate(waf[:3] + waf[-2:]):
    put("waf_line", f"waf-{i}", b"\x00" + l)
put("waf_line", "waf-xff", b"\x01" + waf[0])
put("waf_line", "back-to-back", b"\x00" + waf[0] + waf[1])
for i, l in enumerate(cf[2:5] + cf[-2:]):
    put("cloudfront_line", f"cf-{i}", b"\x00" + l)
put("cloudfront_line", "cf-xff", b"\x01" + cf[3])
for i, l in enumerate(alb[:3] + alb[-2:]):
    put("alb_line", f"alb-{i}", l)
put("config_toml", "default", open("crates/floodgate-core/src/default-config.toml", "rb").read())
put("config_toml", "xff", b'[source]\nclient_ip = "x-forwarded-for"\ntrusted_proxies = 1\n'
    b'[[rules]]\nname = "login"\nwindow = "5m"\nlimit = 20\nmethods = ["POST"]\npaths = ["/login", "/api/*"]\n'
    b'status = ["4xx"]\n[ban]\nduration = "1h"\nipv4_prefix = 24\n[allow]\ncidrs = ["10.0.0.0/8"]\n')
state = os.environ.get("FLOODGATE_SEED_STATE")
if state:
    s = open(state, "rb").read()
    put("state_load", "state", b"\x01" + s)
    put("state_load", "body", b"\x00" + s[20:])
put("state_load", "empty", b"\x00")
total = sum(os.path.getsize(p) for p in glob.glob(f"{OUT}/*/*"))
print(f"{len(glob.glob(f'{OUT}/*/*'))} seeds, {total} bytes")
