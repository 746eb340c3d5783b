#!/usr/bin/env python3
"""sign_crosscheck.py - our PutEvents signer and body against the official SDK.

Runs the official Python SDK (alibabacloud-eventbridge, pinned in
scripts/sdk-requirements.txt) through its own put_events() code path, with
the date and nonce fixed, against a capturing HTTP server on 127.0.0.1, and
compares what it sent with what tests/support/ab_sign_tool produces for the
same inputs: the authorization header byte for byte, every signed and
SDK-specific header, the string-to-sign, and the JSON body.

Usage: sign_crosscheck.py --tool PATH [--venv DIR]
The venv comes from scripts/sdk-venv.sh; this script installs nothing and
fails (never skips) when the venv is missing.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

CASES = [
    # the reference vector (formats.md 1.3)
    {"date": "Sat, 18 Apr 2020 05:30:41 GMT",
     "nonce": "f63659d4-10ac-483b-99da-ea8fde610000",
     "ak": "testAccessKeyId", "secret": "testSecret"},
    {"date": "Mon, 02 Jan 2006 15:04:05 GMT",
     "nonce": "0123456789abcdef0123456789abcdef",
     "ak": "LTAI5tExampleKeyId", "secret": "s3cr3t/+=with:symbols&more"},
    {"date": "Thu, 29 Feb 2024 23:59:59 GMT",
     "nonce": "ffffffffffffffffffffffffffffffff",
     "ak": "STS.NUexampleAk", "secret": "stsSecretValue",
     "token": "CAIS+example/token==", "region": "cn-hangzhou"},
    {"date": "Sun, 22 Nov 2026 03:32:31 GMT",
     "nonce": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
     "ak": "akid", "secret": "x", "region": "cn-shanghai-vpc"},
]

EVENTS = [
    {"id": "4f1c0e5a9b2d4c7e8f901234567890ab", "source": "alertbridge",
     "specversion": "1.0",
     "type": "aliyun:arms:alarm:create", "subject": "acs:arms:alert/1",
     "time": "2021-02-22T07:18:15.578Z", "datacontenttype": "application/json",
     "data": {"owner": "ops", "data": {"status": "firing", "alerts": [1, 2]}}},
    {"id": "second-event-0001", "source": "alertbridge", "specversion": "1.0",
     "type": "aliyun:arms:alarm:close", "datacontenttype": "application/json",
     "data": {"text": "caf\u00e9 \u2713", "n": 3}},
]


class Capture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.server.captured = {
            "path": self.path,
            "headers": [(k.lower(), v) for k, v in self.headers.items()],
            "body": self.rfile.read(n)}
        body = json.dumps({"RequestId": "r", "FailedEntryCount": 0,
                           "EntryList": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


def sdk_request(case, bus):
    """Send EVENTS through the SDK with the case's date and nonce."""
    from alibabacloud_eventbridge import models
    from alibabacloud_eventbridge.client import Client
    from alibabacloud_tea_util.client import Client as UtilClient

    UtilClient.get_date_utcstring = staticmethod(lambda: case["date"])
    UtilClient.get_nonce = staticmethod(lambda: case["nonce"])
    server = HTTPServer(("127.0.0.1", 0), Capture)
    t = threading.Thread(target=server.handle_request)
    t.start()
    cfg = models.Config(access_key_id=case["ak"],
                        access_key_secret=case["secret"],
                        security_token=case.get("token"),
                        region_id=case.get("region"),
                        endpoint="127.0.0.1:%d" % server.server_address[1],
                        protocol="http")
    events = []
    for e in EVENTS:
        events.append(models.CloudEvent(
            id=e["id"], source=e["source"], type=e["type"],
            subject=e.get("subject"), time=e.get("time"),
            specversion=e["specversion"], datacontenttype=e["datacontenttype"],
            data=json.dumps(e["data"]).encode(),
            extensions={"aliyuneventbusname": bus}))
    Client(cfg).put_events(events)
    t.join()
    server.server_close()
    return server.captured


def our_headers(tool, case):
    cmd = [tool, "headers", "--date", case["date"], "--nonce", case["nonce"],
           "--ak", case["ak"], "--secret", case["secret"]]
    if case.get("token"):
        cmd += ["--token", case["token"]]
    if case.get("region"):
        cmd += ["--region", case["region"]]
    out = subprocess.run(cmd, check=True, capture_output=True).stdout
    headers, sts = [], None
    for line in out.decode().splitlines():
        name, _, value = line.partition(": ")
        if name == "string-to-sign":
            sts = value.replace("\\n", "\n")
        else:
            headers.append((name.lower(), value))
    return headers, sts


def our_body(tool, bus):
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in EVENTS)
    return subprocess.run([tool, "body", "--bus", bus], check=True,
                          capture_output=True,
                          input=lines.encode()).stdout


def sdk_string_to_sign(captured):
    from Tea.request import TeaRequest
    from alibabacloud_eventbridge_util.client import Client as Util

    req = TeaRequest()
    req.method = "POST"
    req.pathname = captured["path"]
    req.headers = dict(captured["headers"])
    req.query = {}
    return Util.get_string_to_sign(req)


def check_case(tool, case, failures):
    bus = "alerts-bus"
    captured = sdk_request(case, bus)
    sdk = dict(captured["headers"])
    ours, our_sts = our_headers(tool, case)
    label = "case %s" % case["date"]

    def fail(msg):
        failures.append("%s: %s" % (label, msg))

    if captured["path"] != "/openapi/putEvents":
        fail("SDK path %r" % captured["path"])
    our_names = {n for n, _ in ours}
    for name, value in ours:
        if name == "user-agent":
            continue
        if sdk.get(name) != value:
            fail("header %s: ours %r, SDK %r" % (name, value, sdk.get(name)))
    for name in sdk:
        signed = name.startswith("x-acs") or name.startswith("x-eventbridge")
        if (signed or name in ("date", "content-type", "authorization",
                               "accept")) and name not in our_names:
            fail("SDK sends %s, we do not" % name)
    want_sts = sdk_string_to_sign(captured)
    if our_sts != want_sts:
        fail("string-to-sign differs:\n ours %r\n SDK  %r" % (our_sts,
                                                              want_sts))
    ours_auth = dict(ours).get("authorization", "").encode()
    if ours_auth != sdk.get("authorization", "").encode():
        fail("authorization not byte-identical")
    if json.loads(our_body(tool, bus)) != json.loads(captured["body"]):
        fail("body differs:\n ours %s\n SDK  %s" % (our_body(tool, bus),
                                                    captured["body"]))
    if case["date"] == CASES[0]["date"]:
        want = "acs:testAccessKeyId:zp2vvDdKhtI6N4/mvZVaDV1BHdI="
        if sdk.get("authorization") != want:
            fail("SDK no longer produces the reference vector")
    print("%s: authorization %s" % (label, sdk.get("authorization")))


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    p = argparse.ArgumentParser()
    p.add_argument("--tool", required=True)
    p.add_argument("--venv", default=os.environ.get(
        "AB_SDK_VENV", os.path.join(root, ".cache", "sdk-venv")))
    args = p.parse_args()

    py = os.path.join(args.venv, "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(args.venv):
        if not os.path.exists(py):
            print("sign_crosscheck: FAIL: SDK venv %s is missing; run "
                  "scripts/sdk-venv.sh first" % args.venv)
            return 1
        os.execv(py, [py, os.path.abspath(__file__), "--tool", args.tool,
                      "--venv", args.venv])
    failures = []
    for case in CASES:
        check_case(args.tool, case, failures)
    for f in failures:
        print("FAIL: " + f)
    failed = len({f.split(": ")[0] for f in failures})
    print("%d passed, %d failed" % (len(CASES) - failed, failed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
