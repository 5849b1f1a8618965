"""End-to-end: the `floodgate` CLI against a local AWS endpoint (moto).

`floodgate analyze s3://…` must count exactly what a local analysis of the same files counts,
`floodgate sync` must make the IP sets equal the decision while keeping entries floodgate did
not add, a second sync must write nothing, and `--dry-run` must write nothing.
Run by tests/aws/run.sh with AWS_ENDPOINT_URL pointing at moto and the binary as argv[1].
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = sys.argv[1]
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def floodgate(*args, code=0):
    r = subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != code:
        print(r.stdout, r.stderr, file=sys.stderr)
        raise SystemExit(f"floodgate {' '.join(args)} exited {r.returncode}, expected {code}")
    return r.stdout


s3 = boto3.client("s3", endpoint_url=ENDPOINT)
waf = boto3.client("wafv2", endpoint_url=ENDPOINT)
bucket = "cli-e2e-logs"
s3.create_bucket(Bucket=bucket)
manifest = json.loads((ROOT / "sample-logs/manifest.json").read_text())
for f in manifest["files"]:
    s3.upload_file(str(ROOT / "sample-logs" / f["path"]), bucket, "logs/" + f["path"])
s3.put_object(Bucket=bucket, Key="logs/", Body=b"")  # a folder marker is not a log

v4 = waf.create_ip_set(Name="cli-v4", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["192.0.2.200/32"])["Summary"]
v6 = waf.create_ip_set(Name="cli-v6", Scope="REGIONAL", IPAddressVersion="IPV6", Addresses=[])["Summary"]

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    state = tmp / "s.state"
    floodgate("analyze", "--quiet", "--out", str(tmp / "local"), "sample-logs")
    floodgate("analyze", "--quiet", "--out", str(tmp / "s3"), "--state", str(state), f"s3://{bucket}/logs/")
    local = json.loads((tmp / "local/report.json").read_text())
    remote = json.loads((tmp / "s3/report.json").read_text())
    check("analyze s3:// counts the same records", remote["summary"]["records"] == local["summary"]["records"] == manifest["totals"]["records"], f'{remote["summary"]["records"]}')
    check("analyze s3:// reads every object", remote["summary"]["files"] == len(manifest["files"]), f'{remote["summary"]["files"]}')
    check("analyze s3:// decides the same blocklist", remote["blocklist"] == local["blocklist"], f'{remote["blocklist"]}')
    floodgate("analyze", "--quiet", "--out", str(tmp / "again"), "--state", str(state), f"s3://{bucket}/logs/")
    again = json.loads((tmp / "again/report.json").read_text())
    check("re-reading the same objects counts nothing twice", again["summary"]["records"] == 0 and again["summary"]["skipped_files"] == len(manifest["files"]))

    sets = ["--ipv4-set", f'cli-v4:{v4["Id"]}', "--ipv6-set", f'cli-v6:{v6["Id"]}', "--scope", "REGIONAL", "--endpoint-url", ENDPOINT]
    dry = json.loads(floodgate("sync", "--state", str(state), *sets, "--dry-run", "--json"))
    got = waf.get_ip_set(Name="cli-v4", Scope="REGIONAL", Id=v4["Id"])["IPSet"]["Addresses"]
    check("sync --dry-run writes nothing", got == ["192.0.2.200/32"] and dry["dry_run"] is True, f"{got}")

    report = json.loads(floodgate("sync", "--state", str(state), *sets, "--json"))
    got4 = sorted(waf.get_ip_set(Name="cli-v4", Scope="REGIONAL", Id=v4["Id"])["IPSet"]["Addresses"])
    got6 = sorted(waf.get_ip_set(Name="cli-v6", Scope="REGIONAL", Id=v6["Id"])["IPSet"]["Addresses"])
    check("sync makes the IPv4 set the blocklist plus the foreign entry", got4 == sorted(local["blocklist"]["ipv4"] + ["192.0.2.200/32"]), f"{got4}")
    check("sync makes the IPv6 set the blocklist", got6 == sorted(local["blocklist"]["ipv6"]), f"{got6}")
    check("sync reports two writes", sum(1 for s in report["sets"] if s["wrote"]) == 2, f"{report}")

    second = json.loads(floodgate("sync", "--state", str(state), *sets, "--json"))
    check("an unchanged decision costs no write", not any(s["wrote"] for s in second["sets"]), f"{second}")

    floodgate("sync", "--state", str(state), "--scope", "REGIONAL", code=2)
    floodgate("sync", "--state", str(tmp / "missing.state"), *sets, code=2)
    check("sync usage errors exit 2", True)

print(f"cli against local AWS: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
