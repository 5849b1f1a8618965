"""End-to-end: the `floodgate` CLI against a local AWS endpoint (moto).

`floodgate analyze s3://…` must count exactly what a local analysis of the same files counts,
`floodgate sync` must make the IP sets equal the decision while keeping entries floodgate did
not add, a second sync must write nothing, and `--dry-run` must write nothing. A flood larger
than one IP set (16,000 attackers, range bans off) must sync into three sets per IP
version, each within WAF's 10,000 entries, their union the blocklist, foreign entries kept, and
too few sets must be refused before anything is written.
Run by tests/aws/run.sh with AWS_ENDPOINT_URL pointing at moto, the floodgate binary as
argv[1] and floodgate-loggen as argv[2].
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
LOGGEN = sys.argv[2]
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

    # --state s3://…: analyze writes it conditionally; report and explain read it (deploy.md's
    # review step), deciding what the local run decided.
    s3_state = f"s3://{bucket}/state/floodgate.state"
    floodgate("analyze", "--quiet", "--out", str(tmp / "s3state"), "--state", s3_state, "sample-logs")
    floodgate("report", "--state", s3_state, "--out", str(tmp / "s3report"))
    from_s3 = json.loads((tmp / "s3report/report.json").read_text())
    check("report --state s3:// decides what analyze decided", from_s3["blocklist"] == local["blocklist"], f'{from_s3["blocklist"]}')
    said = floodgate("explain", "203.0.113.12", "--state", s3_state)
    check("explain --state s3:// finds the ban", "BANNED until" in said, said)
    floodgate("analyze", "--quiet", "--out", str(tmp / "s3state2"), "--state", s3_state, "sample-logs")
    again2 = json.loads((tmp / "s3state2/report.json").read_text())
    check("analyze --state s3:// twice counts nothing twice", again2["summary"]["records"] == 0)
    floodgate("report", "--state", f"s3://{bucket}/state/none", "--out", str(tmp / "none"), code=2)

    one_set = tmp / "one-set.toml"  # the built-in config: its capacity follows the one set per version
    one_set.write_text((ROOT / "crates/floodgate-core/src/config/default-config.toml").read_text())
    # sync decides at the wall clock by default (bans that ended leave the sets); these logs are
    # from November, so it decides when the analysis did.
    sets = ["--ipv4-set", f'cli-v4:{v4["Id"]}', "--ipv6-set", f'cli-v6:{v6["Id"]}', "--scope", "REGIONAL", "--endpoint-url", ENDPOINT, "--config", str(one_set), "--now", local["now"]]
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

    # By the clock (no --now): every ban of November has ended, so floodgate's entries leave the
    # sets and the foreign one stays.
    floodgate("sync", "--state", str(state), *sets[:-2], "--json")
    got4 = waf.get_ip_set(Name="cli-v4", Scope="REGIONAL", Id=v4["Id"])["IPSet"]["Addresses"]
    check("sync by the clock removes bans that ended, keeps the foreign entry", got4 == ["192.0.2.200/32"], f"{got4}")

    floodgate("sync", "--state", str(state), "--scope", "REGIONAL", code=2)
    floodgate("sync", "--state", str(tmp / "missing.state"), *sets, code=2)
    check("sync usage errors exit 2", True)

    # --- a flood larger than one IP set -----------------------------------------------------
    corpus = tmp / "flood"
    subprocess.run([LOGGEN, "--out", str(corpus), "--scenario", "botnet", "--formats", "waf", "--duration", "1h",
                    "--flood-limit", "5", "--botnet-requests", "6", "--botnet-attackers", "16000",
                    "--botnet-ordinary", "1000", "--compression", "fast"], check=True, capture_output=True)
    cfg = tmp / "flood.toml"
    # Range bans off (every attacker its own entry) and the guardrail off: 16,000 attackers among
    # 1,450 ordinary clients would otherwise look like a broken rule.
    cfg.write_text('[[rules]]\nname = "flood"\nwindow = "5m"\nlimit = 5\n[ban.ranges]\nenabled = false\n[ban.guardrail]\nmax_share = 1.0\n')
    fstate = tmp / "flood.state"
    floodgate("analyze", "--quiet", "--config", str(cfg), "--out", str(tmp / "flood-out"), "--state", str(fstate), str(corpus))
    flood = json.loads((tmp / "flood-out/report.json").read_text())
    want4, want6 = flood["blocklist"]["ipv4"], flood["blocklist"]["ipv6"]
    check("the flood needs more than one IPv4 set", len(want4) > 10_000, f"{len(want4)}")
    made = {}
    for v, version in (("v4", "IPV4"), ("v6", "IPV6")):
        made[v] = []
        for i in range(1, 4):
            extra = ["198.18.0.1/32"] if (v, i) == ("v4", 2) else []
            made[v].append(waf.create_ip_set(Name=f"flood-{v}-{i}", Scope="REGIONAL", IPAddressVersion=version, Addresses=extra)["Summary"])
    args = ["--state", str(fstate), "--scope", "REGIONAL", "--endpoint-url", ENDPOINT, "--config", str(cfg), "--json", "--now", flood["now"]]
    for v in ("v4", "v6"):
        for s in made[v]:
            args += [f"--ip{v}-set", f'{s["Name"]}:{s["Id"]}']
    # A max_entries written out must fit the sets given (left out, the capacity follows them).
    capped = tmp / "capped.toml"
    capped.write_text(cfg.read_text() + "[ban]\nmax_entries = 30000\n")
    few = ["--state", str(fstate), "--scope", "REGIONAL", "--endpoint-url", ENDPOINT, "--config", str(capped), "--now", flood["now"],
           "--ipv4-set", f'{made["v4"][0]["Name"]}:{made["v4"][0]["Id"]}', "--ipv6-set", f'{made["v6"][0]["Name"]}:{made["v6"][0]["Id"]}']
    floodgate("sync", *few, code=2)
    untouched = waf.get_ip_set(Name=made["v4"][0]["Name"], Scope="REGIONAL", Id=made["v4"][0]["Id"])["IPSet"]["Addresses"]
    check("too few sets for ban.max_entries is refused before any write", untouched == [], f"{len(untouched)}")
    first = json.loads(floodgate("sync", *args))
    def contents(v):
        return [waf.get_ip_set(Name=s["Name"], Scope="REGIONAL", Id=s["Id"])["IPSet"]["Addresses"] for s in made[v]]
    got4, got6 = contents("v4"), contents("v6")
    check("every set holds at most 10,000 entries", all(len(s) <= 10_000 for s in got4 + got6), f"{[len(s) for s in got4]}")
    union4 = sorted(e for s in got4 for e in s if e != "198.18.0.1/32")
    check("the IPv4 sets together are the blocklist", union4 == sorted(want4), f"{len(union4)} vs {len(want4)}")
    check("the IPv6 sets together are the blocklist", sorted(e for s in got6 for e in s) == sorted(want6))
    check("the foreign entry is kept", "198.18.0.1/32" in got4[1])
    check("nothing failed or was left out", all(s["error"] is None and not s["not_fitted"] for s in first["sets"]), f"{first}")
    second = json.loads(floodgate("sync", *args))
    check("a second sync of the flood writes nothing", not any(s["wrote"] for s in second["sets"]), f"{[s['wrote'] for s in second['sets']]}")

print(f"cli against local AWS: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
