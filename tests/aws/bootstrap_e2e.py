"""End-to-end: the built `bootstrap` binary run the way AWS Lambda runs it.

A small Lambda Runtime API (the 2018-06-01 protocol: `invocation/next`, `…/{id}/response`,
`…/{id}/error`, `init/error`) is served here on a free 127.0.0.1 port, in front of the local
AWS endpoint (moto: S3 with conditional writes, WAFv2 IP sets with lock tokens). The bootstrap
process gets the environment Lambda and infra give it and is fed, one invocation at a time:

1. an SQS batch: an S3 notification naming a gzip'd WAF log (a flood from 3 addresses, one
   IPv6, among ordinary clients) and a message whose body is not JSON;
2. an SQS batch: an EventBridge "Object Created" event naming a second WAF log, a JSON body
   that is not an S3 event, and an object in a bucket outside FLOODGATE_LOG_BUCKETS;
3. a CloudWatch Logs subscription delivery of WAF records (a flood from other addresses);
4. a Kinesis batch of CloudFront real-time records (a flood from a third set of addresses);
5. redeliveries of 1, 3 and 4: same responses, nothing counted or written again;
6. an unrecognised event: reported on `…/error` as Floodgate.UnrecognisedEvent, and the
   runtime keeps serving;
7. the schedule: nothing expires yet, the sets stay as they are;
8. `floodgate ban` and `floodgate unban` on the Lambda's S3 state: the next run (the schedule)
   adds the manual ban to the set and removes the unbanned address, which a redelivered batch
   does not ban again;
9. `floodgate stop`: the next run leaves only the foreign entries, a flood meanwhile is counted
   but not enforced; `floodgate resume`: the next run puts the whole blocklist back;
10. `floodgate rollback --to VERSION` (the state bucket is versioned): the state before 8 comes
    back with today's IP set ownership and manual decisions, and the next run drops the flood
    counted since from the sets.

Every ban must be in the IPv4/IPv6 set right after the invocation that carried its flood,
ordinary clients and refused sources never, the entries someone else added kept. A second
bootstrap with a broken environment must exit at cold start with one clear message.
Run by tests/aws/run.sh with AWS_ENDPOINT_URL pointing at moto and the bootstrap as argv[1].
"""
import base64
import gzip
import http.server
import ipaddress
import json
import os
import pathlib
import queue
import re
import subprocess
import sys
import threading
import time
import uuid

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = str(pathlib.Path(sys.argv[1]).resolve())
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
RUN = f"{os.getpid()}"
LOGS, OTHER, STATE = f"boot-logs-{RUN}", f"boot-other-{RUN}", f"boot-state-{RUN}"
STATE_KEY = "state/floodgate.state"
GROUP = f"aws-waf-logs-boot-{RUN}"
STREAM = f"arn:aws:kinesis:us-east-1:123456789012:stream/boot-rt-{RUN}"
ACL = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/site/1111"
FOREIGN4, FOREIGN6 = "192.0.2.250/32", "2001:db8:ffff::/48"
INVOKE_TIMEOUT = 60
# More than 20 requests in 10 s is a flood; one IP set per version holds max_entries.
CONFIG = """
[[rules]]
name = "flood"
window = "10s"
limit = 20

[ban]
max_entries = 10000

[ban.guardrail]
max_share = 1.0
"""
OUT = ROOT / "target" / "bootstrap-e2e"
OUT.mkdir(parents=True, exist_ok=True)
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


# --- the Runtime API ---------------------------------------------------------------------------

class Runtime:
    """Invocations queued by the test, answers recorded from the runtime."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = {}  # request id -> (kind, body, headers)
        self.init_errors = []
        self.unexpected = []
        self.polls = 0
        self.cond = threading.Condition()
        rt = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body=b"", headers=()):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    with rt.cond:
                        rt.unexpected.append(f"GET {self.path}")
                    return self.reply(404, b'{"errorType":"NotFound"}')
                with rt.cond:
                    rt.polls += 1
                rid, payload = rt.events.get()
                deadline = int(time.time() * 1000) + 60_000
                self.reply(200, payload, [
                    ("Lambda-Runtime-Aws-Request-Id", rid),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:us-east-1:123456789012:function:floodgate-{RUN}"),
                    ("Lambda-Runtime-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"),
                ])

            def do_POST(self):
                body = self.body()
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = body.decode("utf-8", "replace")
                m = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)", self.path)
                with rt.cond:
                    if m:
                        rt.answers[m.group(1)] = (m.group(2), parsed, dict(self.headers))
                    elif self.path == "/2018-06-01/runtime/init/error":
                        rt.init_errors.append(parsed)
                    else:
                        rt.unexpected.append(f"POST {self.path}")
                    rt.cond.notify_all()
                self.reply(202, b'{"status":"OK"}')

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, proc, event, timeout=INVOKE_TIMEOUT):
        """Queue one event; wait for its response or error: (kind, body, headers, seconds)."""
        rid = str(uuid.uuid4())
        start = time.monotonic()
        self.events.put((rid, json.dumps(event).encode()))
        with self.cond:
            while rid not in self.answers:
                if proc.poll() is not None:
                    raise Died(f"bootstrap exited with {proc.returncode} during invocation {rid}")
                if time.monotonic() - start > timeout:
                    raise Died(f"no answer to invocation {rid} within {timeout} s")
                self.cond.wait(0.1)
            kind, body, headers = self.answers[rid]
        return kind, body, headers, time.monotonic() - start


class Died(Exception):
    pass


def start_bootstrap(rt, env_extra, name):
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{rt.port}",
        "AWS_LAMBDA_FUNCTION_NAME": f"floodgate-{RUN}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"2026/12/02/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/floodgate-{RUN}",
        "LAMBDA_TASK_ROOT": str(pathlib.Path(BIN).parent),
        "_HANDLER": "bootstrap",
    })
    env.update(env_extra)
    stdout, stderr = OUT / f"{name}.stdout", OUT / f"{name}.stderr"
    proc = subprocess.Popen([BIN], cwd=OUT, env=env, stdin=subprocess.DEVNULL,
                            stdout=open(stdout, "wb"), stderr=open(stderr, "wb"))
    return proc, stdout, stderr


def tail(path, n=40):
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-n:])


# --- logs and events -----------------------------------------------------------------------

def now_ms():
    return int(time.time() * 1000)


def flood(attackers, ordinary, at):
    """(ip, ms): each attacker 30 requests in 3 s, each ordinary client 3, ending before `at`."""
    out = []
    for ip in attackers:
        out += [(ip, at - 5_000 + i * 100) for i in range(30)]
    for ip in ordinary:
        out += [(ip, at - 5_000 + i * 1_000) for i in range(3)]
    return sorted(out, key=lambda r: r[1])


def waf_line(ip, ms):
    return json.dumps({
        "timestamp": ms, "formatVersion": 1, "webaclId": ACL,
        "terminatingRuleId": "Default_Action", "terminatingRuleType": "REGULAR", "action": "ALLOW",
        "httpSourceName": "ALB", "httpSourceId": "alb",
        "httpRequest": {"clientIp": ip, "country": "NL", "uri": "/login", "args": "",
                        "httpVersion": "HTTP/1.1", "httpMethod": "POST", "requestId": "r",
                        "headers": [{"name": "Host", "value": "example.com"},
                                    {"name": "User-Agent", "value": "flood/1.0"}]}})


def realtime_line(ip, ms):
    return (f"{ms // 1000}.{ms % 1000:03d}\t{ip}\t200\tGET\td111.cloudfront.net\t/search?q=x\t"
            f"d111.cloudfront.net\tflood/1.0\tq=x\t-\tNL")


def form_encode(key):
    """S3 notifications form-encode keys (space as +)."""
    from urllib.parse import quote_plus
    return "/".join(quote_plus(p) for p in key.split("/"))


def s3_record(bucket, key, etag, size):
    return {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "10.0.0.1"},
            "responseElements": {"x-amz-request-id": "REQ", "x-amz-id-2": "ID2"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "floodgate",
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": "OWNER"}, "arn": f"arn:aws:s3:::{bucket}"},
                   "object": {"key": form_encode(key), "size": size, "eTag": etag, "sequencer": "0055AED6DCD90281E5"}}}


def eventbridge(bucket, key, etag, size):
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1", "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket},
                       "object": {"key": form_encode(key), "size": size, "etag": etag, "sequencer": "617f08299329d189"},
                       "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                       "source-ip-address": "10.0.0.1", "reason": "PutObject"}}


def sqs(messages):
    return {"Records": [{
        "messageId": mid, "receiptHandle": f"rh-{mid}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(now_ms()),
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": str(now_ms())},
        "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:floodgate", "awsRegion": "us-east-1",
    } for mid, body in messages]}


def awslogs(group, stream, messages):
    t = now_ms()
    payload = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
               "logStream": stream, "subscriptionFilters": ["floodgate"],
               "logEvents": [{"id": f"{37000000000000000000 + i:056d}", "timestamp": t, "message": m}
                             for i, m in enumerate(messages)]}
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


def kinesis(lines, base=0):
    recs = []
    for i, line in enumerate(lines):
        seq = f"4959{base + i + 1:052d}"
        recs.append({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq,
                                 "data": base64.b64encode(f"{line}\n".encode()).decode(),
                                 "approximateArrivalTimestamp": time.time()},
                     "eventSource": "aws:kinesis", "eventVersion": "1.0",
                     "eventID": f"shardId-000000000000:{seq}", "eventName": "aws:kinesis:record",
                     "invokeIdentityArn": "arn:aws:iam::123456789012:role/floodgate",
                     "awsRegion": "us-east-1", "eventSourceARN": STREAM})
    return {"Records": recs}


# --- AWS -----------------------------------------------------------------------------------

s3 = boto3.client("s3", endpoint_url=ENDPOINT)
waf = boto3.client("wafv2", endpoint_url=ENDPOINT)
for b in (LOGS, OTHER, STATE):
    s3.create_bucket(Bucket=b)
# The stack's state bucket is versioned (rollback, below).
s3.put_bucket_versioning(Bucket=STATE, VersioningConfiguration={"Status": "Enabled"})
v4 = waf.create_ip_set(Name=f"boot-v4-{RUN}", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[FOREIGN4])["Summary"]
v6 = waf.create_ip_set(Name=f"boot-v6-{RUN}", Scope="REGIONAL", IPAddressVersion="IPV6", Addresses=[FOREIGN6])["Summary"]


def ip_set(s):
    return sorted(waf.get_ip_set(Name=s["Name"], Scope="REGIONAL", Id=s["Id"])["IPSet"]["Addresses"])


def covered():
    """Every address the two sets cover, as ip_network (a /32 or /64 entry is one 'address')."""
    out = set()
    for c in ip_set(v4) + ip_set(v6):
        net = ipaddress.ip_network(c)
        if net.version == 4 and net.prefixlen >= 24:
            out.update(ipaddress.ip_network(f"{h}/32") for h in net)
        else:
            out.add(net)
    return out


def entry(ip):
    """The set entry a ban of `ip` covers: the /32 (IPv4) or the /64 (IPv6, ban.ipv6_prefix)."""
    a = ipaddress.ip_address(ip)
    return ipaddress.ip_network(f"{a}/32" if a.version == 4 else f"{a}/64", strict=False)


def state_object():
    try:
        o = s3.get_object(Bucket=STATE, Key=STATE_KEY)
        return o["ETag"], o["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None, None


def latest_report():
    try:
        return json.loads(s3.get_object(Bucket=STATE, Key="reports/latest/report.json")["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def put_log(bucket, key, lines):
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    r = s3.put_object(Bucket=bucket, Key=key, Body=body)
    return r["ETag"].strip('"'), len(body)


def failures(body):
    return sorted(f["itemIdentifier"] for f in (body or {}).get("batchItemFailures", []))


def report_records():
    r = latest_report()
    return r and r.get("summary", {}).get("records")


ENV = {
    "FLOODGATE_STATE_BUCKET": STATE,
    "FLOODGATE_STATE_KEY": STATE_KEY,
    "FLOODGATE_REPORTS_PREFIX": "reports",
    "FLOODGATE_IPV4_SET": f'{v4["Name"]}:{v4["Id"]}',
    "FLOODGATE_IPV6_SET": f'{v6["Name"]}:{v6["Id"]}',
    "FLOODGATE_SCOPE": "REGIONAL",
    "FLOODGATE_CONFIG_TOML": CONFIG,
    "FLOODGATE_DRY_RUN": "false",
    "FLOODGATE_REPORT_INTERVAL": "0",
    "FLOODGATE_LOG_BUCKETS": LOGS,
    "FLOODGATE_LOG_PREFIXES": "AWSLogs/",
    "FLOODGATE_LOG_GROUPS": GROUP,
    "FLOODGATE_STREAM_ARNS": STREAM,
    "FLOODGATE_METRICS_NAMESPACE": "floodgate-e2e",
}

ORDINARY = [f"198.51.100.{i}" for i in range(1, 11)] + ["2001:db8:100::7"]
WAF_S3 = ["203.0.113.10", "203.0.113.20", "2001:db8:1::10"]
WAF_EB = ["203.0.113.40", "203.0.113.50"]
FOREIGN_BUCKET = ["203.0.113.90"]
WAF_CWL = ["203.0.113.110", "203.0.113.120", "203.0.113.130"]
REALTIME = ["203.0.113.170", "203.0.113.180", "2001:db8:2::20"]


def expect(*groups):
    return {entry(ip) for g in groups for ip in g} | {ipaddress.ip_network(FOREIGN4), ipaddress.ip_network(FOREIGN6)}


def show(nets):
    return sorted(map(str, nets), key=lambda s: (":" in s, s))


def schedule():
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1", "resources": [], "detail": {}}


def partials_step():
    """11. FLOODGATE_PARTIALS_PREFIX (the stack's partials=true), on the same state: reading
    invocations write partials and ban nothing yet; a partial's notification (through SQS) starts
    the reducer, which merges every pending partial, bans, deletes them (DeleteObjects), releases
    its lease and writes the streams head; a redelivered Kinesis batch is dropped through it."""
    rt3 = Runtime()
    proc3, _, err3 = start_bootstrap(rt3, dict(ENV, FLOODGATE_PARTIALS_PREFIX="partials/"), "bootstrap-partials")

    def invoke(name, event):
        kind, body, _, secs = rt3.invoke(proc3, event)
        print(f"     {name}: {kind} in {secs:.2f} s: {json.dumps(body)[:200]}")
        return kind, body

    def pending():
        return [o["Key"] for o in s3.list_objects_v2(Bucket=STATE, Prefix="partials/").get("Contents", [])]

    try:
        before = covered()
        at = now_ms() - 2_000
        waf_flood, rt_flood = ["203.0.113.220"], ["203.0.113.221"]
        lines = [waf_line(ip, ms) for ip, ms in flood(waf_flood, ORDINARY, at)]
        rt_lines = [realtime_line(ip, ms) for ip, ms in flood(rt_flood, ORDINARY, at)]
        kind, body = invoke("cloudwatch logs (partials)", awslogs(GROUP, "us-east-1_site_9", lines))
        check("partials: a CloudWatch Logs delivery is answered", kind == "response", f"{kind} {body}")
        kind, body = invoke("kinesis (partials)", kinesis(rt_lines, 10_000))
        check("partials: a Kinesis batch is answered with no failure", kind == "response" and body == {"batchItemFailures": []},
              f"{kind} {body}")
        keys = pending()
        check("partials: one partial per reading invocation, nothing banned yet", len(keys) == 2 and covered() == before,
              f"{keys} {show(covered() - before)}")
        note = {"Records": [s3_record(STATE, keys[0], "e", 1)]}
        kind, body = invoke("reducer (a partial's notification)", sqs([("m-part", json.dumps(note))]))
        check("partials: the reducer's SQS batch is answered with no failure", kind == "response" and failures(body) == [],
              f"{kind} {body}")
        check("partials: the reducer merged both partials, both floods banned",
              covered() == before | expect(waf_flood, rt_flood), show(covered() ^ before))
        check("partials: the merged partials are deleted (DeleteObjects)", pending() == [], f"{pending()}")
        lease = json.loads(s3.get_object(Bucket=STATE, Key=STATE_KEY + ".reducer-lease")["Body"].read())
        check("partials: the reducer's lease is released", lease.get("until_ms") == 0, f"{lease}")
        head = s3.get_object(Bucket=STATE, Key=STATE_KEY + ".streams")["Body"].read().decode()
        check("partials: the streams head holds the Kinesis batch's range", "stream:kinesis:" in head, head[:200])
        banned_now = covered()
        kind, body = invoke("redelivered kinesis (partials)", kinesis(rt_lines, 10_000))
        check("partials: a redelivered Kinesis batch is dropped through the streams head (no partial)",
              kind == "response" and pending() == [], f"{kind} {body} {pending()}")
        check("partials: a reading invocation leaves the IP sets to the reducer", covered() == banned_now,
              show(covered() ^ banned_now))
        check("partials: the runtime is still polling", proc3.poll() is None)
    except Died as e:
        check("partials: the bootstrap answered every invocation", False, str(e))
    finally:
        proc3.kill()
        proc3.wait()
    errors = [l for l in err3.read_text(errors="replace").splitlines() if '"level":"ERROR"' in l]
    check("partials: no ERROR log line", not errors, "\n".join(errors[:3]))


def main():
    t0 = time.monotonic()
    rt = Runtime()
    proc, out, err = start_bootstrap(rt, ENV, "bootstrap")
    timings = {}

    def invoke(name, event):
        kind, body, headers, secs = rt.invoke(proc, event)
        timings[name] = secs
        print(f"     {name}: {kind} in {secs:.2f} s: {json.dumps(body)[:300]}")
        return kind, body, headers

    try:
        check("nothing in the sets but the foreign entries at the start", covered() == expect(), show(covered()))

        # 1. SQS: an S3 notification of a WAF log (key with a space, form-encoded), a broken message.
        at = now_ms() - 2_000
        lines1 = [waf_line(ip, ms) for ip, ms in flood(WAF_S3, ORDINARY, at)]
        key1 = f"AWSLogs/123456789012/WAFLogs/us-east-1/site/{time.strftime('%Y/%m/%d/%H/%M')}/waf {RUN} a+b.log.gz"
        etag1, size1 = put_log(LOGS, key1, lines1)
        ev1 = sqs([("m-s3", json.dumps({"Records": [s3_record(LOGS, key1, etag1, size1)]})),
                   ("m-notjson", "{this is not json")])
        kind, body, _ = invoke("sqs s3 notification", ev1)
        check("an SQS batch is answered on …/response", kind == "response", f"{kind} {body}")
        check("the broken message alone is a batch item failure", failures(body) == ["m-notjson"], f"{body}")
        check("the S3-notified flood is banned in that invocation", covered() == expect(WAF_S3), show(covered()))
        check("the report counts the object's records", report_records() == len(lines1), f"{report_records()} vs {len(lines1)}")
        etag_after1, _ = state_object()
        check("the state object is written", etag_after1 is not None)

        # 2. SQS: an EventBridge Object Created, a JSON body that is no S3 event, a foreign bucket.
        at = now_ms() - 2_000
        lines2 = [waf_line(ip, ms) for ip, ms in flood(WAF_EB, ORDINARY, at)]
        key2 = f"AWSLogs/123456789012/WAFLogs/us-east-1/site/{time.strftime('%Y/%m/%d/%H/%M')}/eb-{RUN}.log.gz"
        etag2, size2 = put_log(LOGS, key2, lines2)
        foreign = [waf_line(ip, ms) for ip, ms in flood(FOREIGN_BUCKET, [], at)]
        key3 = f"AWSLogs/123456789012/WAFLogs/us-east-1/site/{time.strftime('%Y/%m/%d/%H/%M')}/foreign.log.gz"
        etag3, size3 = put_log(OTHER, key3, foreign)
        ev2 = sqs([("m-eb", json.dumps(eventbridge(LOGS, key2, etag2, size2))),
                   ("m-hello", json.dumps({"hello": 1})),
                   ("m-foreign", json.dumps({"Records": [s3_record(OTHER, key3, etag3, size3)]}))])
        kind, body, _ = invoke("sqs eventbridge", ev2)
        check("the non-S3 body alone is a batch item failure (a refused bucket is not retried)",
              kind == "response" and failures(body) == ["m-hello"], f"{kind} {body}")
        check("the EventBridge-notified flood is banned in that invocation", covered() == expect(WAF_S3, WAF_EB), show(covered()))
        check("the report counts only the object of FLOODGATE_LOG_BUCKETS", report_records() == len(lines2), f"{report_records()} vs {len(lines2)}")

        # 3. CloudWatch Logs subscription of WAF records.
        at = now_ms() - 2_000
        lines3 = [waf_line(ip, ms) for ip, ms in flood(WAF_CWL, ORDINARY, at)]
        ev3 = awslogs(GROUP, "us-east-1_site_0", lines3)
        kind, body, _ = invoke("cloudwatch logs", ev3)
        check("a CloudWatch Logs delivery is answered on …/response", kind == "response" and body.get("events") == len(lines3), f"{kind} {body}")
        check("the CloudWatch Logs flood is banned in that invocation", covered() == expect(WAF_S3, WAF_EB, WAF_CWL), show(covered()))
        check("the report counts the delivery's records", report_records() == len(lines3), f"{report_records()} vs {len(lines3)}")

        # 4. Kinesis batch of CloudFront real-time records.
        at = now_ms() - 2_000
        lines4 = [realtime_line(ip, ms) for ip, ms in flood(REALTIME, ORDINARY, at)]
        ev4 = kinesis(lines4)
        kind, body, _ = invoke("kinesis", ev4)
        check("a Kinesis batch is answered with no batch item failure", kind == "response" and body == {"batchItemFailures": []}, f"{kind} {body}")
        everything = expect(WAF_S3, WAF_EB, WAF_CWL, REALTIME)
        check("the Kinesis flood is banned in that invocation", covered() == everything, show(covered()))
        check("the report counts the batch's records", report_records() == len(lines4), f"{report_records()} vs {len(lines4)}")
        check("ordinary clients and the foreign bucket's flood are never banned",
              not ({entry(ip) for ip in ORDINARY + FOREIGN_BUCKET} & covered()), show(covered()))
        check("the foreign entries are kept", FOREIGN4 in ip_set(v4) and FOREIGN6 in ip_set(v6), f"{ip_set(v4)} {ip_set(v6)}")

        # 5. Redeliveries: same answers, nothing counted, nothing written.
        before = (state_object(), ip_set(v4), ip_set(v6), latest_report())
        for name, ev, want in (("redelivered sqs", ev1, lambda b: failures(b) == ["m-notjson"]),
                               ("redelivered cloudwatch logs", ev3, lambda b: b.get("events") == len(lines3)),
                               ("redelivered kinesis", ev4, lambda b: b == {"batchItemFailures": []})):
            kind, body, _ = invoke(name, ev)
            check(f"the {name} is answered as the first delivery", kind == "response" and want(body), f"{kind} {body}")
        after = (state_object(), ip_set(v4), ip_set(v6), latest_report())
        check("redeliveries leave the state object as it was", after[0] == before[0], f"{before[0][0]} -> {after[0][0]}")
        check("redeliveries leave the IP sets as they were", after[1:3] == before[1:3], f"{after[1:3]}")
        check("redeliveries write no report", after[3] == before[3])

        # 6. An unrecognised event: an invocation error with a stable errorType; the runtime lives on.
        kind, body, headers = invoke("unrecognised", {"hello": 1})
        check("an unrecognised event is reported on …/error", kind == "error", f"{kind} {body}")
        check("its errorType is Floodgate.UnrecognisedEvent",
              isinstance(body, dict) and body.get("errorType") == "Floodgate.UnrecognisedEvent"
              and "hello" in body.get("errorMessage", ""), f"{body}")

        # 7. The schedule: nothing expired yet, the sets unchanged.
        kind, body, _ = invoke("schedule", schedule())
        check("the schedule is answered after the error (the runtime kept serving)", kind == "response", f"{kind} {body}")
        check("the schedule answers {expired, sync}", isinstance(body, dict) and "expired" in body and "sync" in body, f"{body}")
        check("nothing expires within the ban duration", isinstance(body, dict) and body.get("expired") == [], f"{body}")
        check("the schedule leaves the sets as they are", covered() == everything, show(covered()))

        before_console = s3.head_object(Bucket=STATE, Key=STATE_KEY)["VersionId"]

        # 8. The operator's console on the Lambda's own state: `floodgate ban` and `unban`
        #    write the S3 state; the next run (the schedule) puts them in the sets.
        cli = str(ROOT / "target" / "debug" / "floodgate")
        url = f"s3://{STATE}/{STATE_KEY}"
        r = subprocess.run([cli, "ban", "192.0.2.77", "--state", url, "--for", "1h", "--reason", "e2e"],
                           capture_output=True, text=True)
        check("floodgate ban writes the Lambda's S3 state", r.returncode == 0, r.stdout + r.stderr)
        r = subprocess.run([cli, "unban", WAF_S3[0], "--state", url, "--reason", "a customer"],
                           capture_output=True, text=True)
        check("floodgate unban lifts a ban of the Lambda's state", r.returncode == 0 and "lifted" in r.stdout,
              r.stdout + r.stderr)
        kind, body, _ = invoke("schedule after ban and unban", schedule())
        steered = (everything - {entry(WAF_S3[0])}) | {entry("192.0.2.77")}
        check("the manual ban and the unban reach the IP sets at the next run", covered() == steered, show(covered()))
        kind, body, _ = invoke("redelivered sqs after the unban", ev1)
        check("the unbanned address stays out (its counted requests do not ban it again)",
              covered() == steered, show(covered()))

        # 9. The emergency stop: `floodgate stop` empties floodgate's entries at the next run,
        #    the foreign ones stay, counting goes on; `floodgate resume` puts them back.
        r = subprocess.run([cli, "stop", "--state", url, "--reason", "e2e drill"], capture_output=True, text=True)
        check("floodgate stop writes the Lambda's state", r.returncode == 0, r.stdout + r.stderr)
        kind, body, _ = invoke("schedule after stop", schedule())
        check("stopped: the sets hold only the foreign entries", covered() == expect(), show(covered()))
        at = now_ms() - 2_000
        stopped_flood = ["203.0.113.210"]
        lines9 = [waf_line(ip, ms) for ip, ms in flood(stopped_flood, ORDINARY, at)]
        kind, body, _ = invoke("cloudwatch logs while stopped", awslogs(GROUP, "us-east-1_site_0", lines9))
        check("stopped: a new flood is counted but not enforced",
              covered() == expect() and report_records() == len(lines9), show(covered()))
        r = subprocess.run([cli, "resume", "--state", url], capture_output=True, text=True)
        check("floodgate resume writes the Lambda's state", r.returncode == 0, r.stdout + r.stderr)
        kind, body, _ = invoke("schedule after resume", schedule())
        check("resumed: the sets hold the blocklist again, the flood counted while stopped included",
              covered() == steered | expect(stopped_flood), show(covered()))

        # 10. Rollback to the state before the console steps: `floodgate rollback --to VERSION`
        #     puts that version back (keeping today's ownership and manual records), and the next
        #     run takes the entries of the later decisions out of the sets, foreign ones kept.
        r = subprocess.run([cli, "rollback", "--state", url, "--to", before_console], capture_output=True, text=True)
        check("floodgate rollback puts an earlier version back", r.returncode == 0, r.stdout + r.stderr)
        kind, body, _ = invoke("schedule after rollback", schedule())
        rolled = (everything - {entry(WAF_S3[0])}) | {entry("192.0.2.77")}
        check("rolled back: the flood counted since is gone from the sets, the manual decisions kept",
              covered() == rolled, show(covered()))

        check("the runtime is still polling", proc.poll() is None)
        check("no init error and no unexpected Runtime API call", not rt.init_errors and not rt.unexpected,
              f"{rt.init_errors} {rt.unexpected}")
    except Died as e:
        check("the bootstrap answered every invocation", False, str(e))
    finally:
        proc.kill()
        proc.wait()

    # Logs: stderr one JSON object per line (tracing), stdout only EMF metrics.
    def json_lines(path):
        bad, objs = [], []
        for line in path.read_text(errors="replace").splitlines():
            try:
                objs.append(json.loads(line))
            except ValueError:
                bad.append(line)
        return objs, bad

    logs, bad = json_lines(err)
    check("stderr is one JSON object per line", logs and not bad, f"{bad[:3]}")
    metrics, bad = json_lines(out)
    check("stdout holds only EMF metrics", metrics and not bad and all("_aws" in m for m in metrics), f"{bad[:3]}")
    errors = [l for l in logs if l.get("level") == "ERROR"]
    check("one ERROR log line, for the unrecognised event", len(errors) == 1 and "hello" in json.dumps(errors[0]),
          json.dumps(errors[:3]))

    if failed:
        print(f"--- tail of {err}:\n{tail(err)}", file=sys.stderr)
    print("     timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))

    # A broken environment: the cold start fails with one clear message naming every problem,
    # before any poll; then a configuration that needs more IP sets than configured.
    def cold_start_failure(name, env, words):
        rt2 = Runtime()
        proc2, _, err2 = start_bootstrap(rt2, env, name)
        try:
            code = proc2.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc2.kill()
            proc2.wait()
            code = None
        text = err2.read_text(errors="replace")
        check(f"{name}: fails the cold start", code not in (None, 0), f"exit {code}")
        check(f"{name}: before polling for an event", rt2.polls == 0, f"{rt2.polls} polls")
        check(f"{name}: one message naming every problem",
              "cold start failed" in text and all(w in text for w in words), tail(err2, 5))
        # Not asserted: the runtime does not post /runtime/init/error (Lambda reports
        # Runtime.ExitError with the log tail).
        print(f"     {name}: exit {code}, init/error posts: {rt2.init_errors}")

    partials_step()

    broken = dict(ENV)
    del broken["FLOODGATE_STATE_BUCKET"]
    broken["FLOODGATE_SCOPE"] = "GLOBAL"
    cold_start_failure("broken environment", broken, ["FLOODGATE_STATE_BUCKET is not set", "FLOODGATE_SCOPE"])
    small = dict(ENV, FLOODGATE_CONFIG_TOML=CONFIG.replace("max_entries = 10000", "max_entries = 30000"))
    cold_start_failure("too few IP sets", small, ["FLOODGATE_IPV4_SET", "30000"])

    print(f"     total {time.monotonic() - t0:.1f} s")
    print(f"bootstrap through the Runtime API against local AWS: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
