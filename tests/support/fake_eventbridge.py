#!/usr/bin/env python3
"""fake_eventbridge.py - a local stand-in for EventBridge PutEvents, for tests.

Serves POST /openapi/putEvents on 127.0.0.1 and checks each request the way
the service does: method and path, content type, the SDK's headers, a
fresh date and nonce, the signature recomputed with the known secret
(written here from the published rules, independently of the C signer),
the STS token, the bus name, the event attributes and the size limits
(docs/sink.md). Accepted events are counted by id.

Failures are scripted through the control API (no signature needed):
  POST /_control/script   {"actions": [ACTION, ...]}  queue actions; each
                          signed, valid PutEvents request consumes one:
      {"kind": "ok"}
      {"kind": "status", "status": 429, "code": "TooManyRequests"}
      {"kind": "slow", "seconds": 2, "accept": false}  answer late
      {"kind": "reset"}       close the connection with a TCP reset
      {"kind": "partial", "fail_ids": [...], "fail_first": N,
       "code": "InternalError"}  HTTP 200 with FailedEntryCount/EntryList
    an action may carry "repeat": N (default 1).
  GET  /_control/state    {"events": {id: count}, "order": [ids],
                           (connections: those that carried PutEvents)
                           "requests": [{"ids": [...], "outcome": ...}],
                           "connections": N, "max_concurrent": N,
                           "errors": {code: N}}
  POST /_control/reset    forget everything
Accepted events are also appended to --record as JSON lines.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/openapi/putEvents"
CTYPE = "application/cloudevents-batch+json; charset=utf-8"
COUNTED = ("specversion", "id", "type", "source", "subject", "dataschema",
           "datacontenttype")


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.events = {}
        self.order = []
        self.requests = []
        self.connections = 0
        self.active = 0
        self.max_concurrent = 0
        self.errors = {}
        self.nonces = set()
        self.script = []


def string_to_sign(method, headers, path):
    """The signed string, from the rules in the reference (section 1.3)."""
    acs = sorted((k.lower(), v) for k, v in headers.items()
                 if k.lower().startswith("x-acs"))
    lines = [method, headers.get("content-md5", ""),
             headers.get("content-type", ""), headers.get("date", "")]
    return "\n".join(lines) + "\n" + "".join(
        "%s:%s\n" % kv for kv in acs) + path


def event_size(ev):
    """Size by the PutEvents rule; extensions count name and value."""
    size = 0
    for k, v in ev.items():
        if k == "time":
            size += 36
            continue
        if isinstance(v, str):
            vlen = len(v.encode("utf-8"))
        else:
            vlen = len(json.dumps(v, separators=(",", ":"),
                                  ensure_ascii=False).encode("utf-8"))
        if k == "data_base64" and isinstance(v, str):
            vlen = len(base64.b64decode(v))
        if k in COUNTED or k in ("data", "data_base64"):
            size += vlen
        else:
            size += len(k.encode("utf-8")) + vlen
    return size


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-eventbridge"

    def setup(self):
        super().setup()
        self.counted = False

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("fake_eventbridge: " + fmt % args + "\n")

    def reply(self, status, obj):
        body = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def fail(self, status, code, message, events=()):
        st = self.server.state
        with st.lock:
            st.errors[code] = st.errors.get(code, 0) + 1
            st.requests.append({"ids": [e["id"] for e in events],
                                "outcome": code})
        self.reply(status, {"code": code, "message": message,
                            "requestId": str(uuid.uuid4())})

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    # ---- control API ----

    def do_GET(self):
        st = self.server.state
        if self.path != "/_control/state":
            self.reply(404, {"code": "NotFound", "message": self.path})
            return
        with st.lock:
            obj = {"events": dict(st.events), "order": list(st.order),
                   "requests": list(st.requests),
                   "connections": st.connections,
                   "max_concurrent": st.max_concurrent,
                   "errors": dict(st.errors)}
        self.reply(200, obj)

    def control_post(self, body):
        st = self.server.state
        if self.path == "/_control/reset":
            with st.lock:
                st.reset()
            self.reply(200, {})
        elif self.path == "/_control/script":
            actions = json.loads(body or b"{}").get("actions", [])
            with st.lock:
                for a in actions:
                    st.script.extend([a] * int(a.get("repeat", 1)))
            self.reply(200, {"queued": len(st.script)})
        else:
            self.reply(404, {"code": "NotFound", "message": self.path})

    # ---- PutEvents ----

    def do_POST(self):
        body = self.read_body()
        if self.path.startswith("/_control/"):
            self.control_post(body)
            return
        if self.path != PATH:
            self.fail(404, "NotFound", "no such path: " + self.path)
            return
        if not self.counted:
            self.counted = True
            with self.server.state.lock:
                self.server.state.connections += 1
        headers = {k.lower(): v for k, v in self.headers.items()}
        events = self.verify(headers, body)
        if events is None:
            return
        st = self.server.state
        with st.lock:
            action = st.script.pop(0) if st.script else {"kind": "ok"}
            st.active += 1
            st.max_concurrent = max(st.max_concurrent, st.active)
        try:
            self.perform(action, events)
        finally:
            with st.lock:
                st.active -= 1

    def verify(self, h, body):
        """Check a request as the service would; None after an error."""
        o = self.server.opts
        if h.get("content-type") != CTYPE:
            self.fail(415, "UnsupportedMediaType",
                       "content-type must be " + CTYPE)
            return None
        for name, want in (("x-acs-signature-method", "HMAC-SHA1"),
                           ("x-acs-signature-version", "1.0"),
                           ("x-eventbridge-version", "2015-06-06"),
                           ("accept", "application/json")):
            if h.get(name) != want:
                self.fail(400, "MissingHeader", "%s must be %s" % (name, want))
                return None
        try:
            date = email.utils.parsedate_to_datetime(h.get("date", ""))
        except (TypeError, ValueError):
            date = None
        if (date is None or not h["date"].endswith(" GMT")
                or abs(date.timestamp() - time.time()) > o.max_skew):
            self.fail(403, "InvalidDate", "date missing, malformed or skewed")
            return None
        nonce = h.get("x-acs-signature-nonce", "")
        st = self.server.state
        with st.lock:
            reused = not nonce or nonce in st.nonces
            st.nonces.add(nonce)
        if reused:
            self.fail(403, "SignatureNonceUsed", "nonce missing or reused")
            return None
        auth = h.get("authorization", "")
        parts = auth.split(":")
        if len(parts) != 3 or parts[0] != "acs":
            self.fail(403, "InvalidAuthorization", "bad authorization header")
            return None
        if parts[1] != o.access_key_id:
            self.fail(403, "InvalidAccessKeyId", "unknown access key id")
            return None
        if o.sts_token and (h.get("x-acs-security-token") != o.sts_token or
                            h.get("x-acs-accesskey-id") != o.access_key_id):
            self.fail(403, "InvalidSecurityToken", "security token invalid")
            return None
        sts = string_to_sign("POST", h, PATH)
        want = base64.b64encode(hmac.new(o.secret.encode(), sts.encode(),
                                         hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(want, parts[2]):
            # The real service echoes its string-to-sign, which holds the
            # STS token: clients must not log it as is.
            self.fail(403, "SignatureDoesNotMatch",
                       "signature does not match, server string to sign "
                       "is: " + sts.replace("\n", "#"))
            return None
        return self.verify_body(body)

    def verify_body(self, body):
        o = self.server.opts
        if len(body) > o.max_request_bytes:
            self.fail(413, "RequestTooLarge", "body is %d bytes" % len(body))
            return None
        try:
            events = json.loads(body)
        except ValueError as e:
            self.fail(400, "InvalidJson", str(e))
            return None
        if not isinstance(events, list) or not 1 <= len(events) <= o.max_events:
            self.fail(400, "InvalidEventCount", "need 1..%d events" %
                       o.max_events)
            return None
        total = 0
        buses = set()
        for ev in events:
            if not isinstance(ev, dict):
                self.fail(400, "InvalidEvent", "event is not an object")
                return None
            for attr in ("id", "source", "type", "specversion"):
                if not isinstance(ev.get(attr), str) or not ev[attr]:
                    self.fail(400, "InvalidEvent", "missing " + attr)
                    return None
            if ev["specversion"] != "1.0":
                self.fail(400, "InvalidEvent", "specversion must be 1.0")
                return None
            buses.add(ev.get("aliyuneventbusname"))
            size = event_size(ev)
            if size > o.max_event_bytes:
                self.fail(400, "EventTooLarge", "event %s is %d bytes" %
                           (ev["id"], size))
                return None
            total += size
        if total > o.max_request_bytes:
            self.fail(413, "RequestTooLarge", "events are %d bytes" % total)
            return None
        if len(buses) != 1:
            self.fail(409, "PutEventsRequestMoreThanOneEventBus",
                       "the request names more than one event bus")
            return None
        if buses.pop() != o.bus:
            self.fail(409, "EventBusNotExist", "the event bus does not exist")
            return None
        return events

    def accept(self, events, failed):
        st = self.server.state
        with st.lock:
            for ev in events:
                if ev["id"] in failed:
                    continue
                st.events[ev["id"]] = st.events.get(ev["id"], 0) + 1
                st.order.append(ev["id"])
                if self.server.record:
                    self.server.record.write(json.dumps(
                        {"id": ev["id"], "event": ev}) + "\n")
                    self.server.record.flush()

    def note_request(self, events, outcome):
        st = self.server.state
        with st.lock:
            st.requests.append({"ids": [e["id"] for e in events],
                                "outcome": outcome})

    def perform(self, action, events):
        kind = action.get("kind", "ok")
        if kind == "status":
            self.fail(int(action["status"]), action.get("code", "Scripted"),
                      action.get("message", "scripted failure"), events)
            return
        if kind == "reset":
            self.note_request(events, "reset")
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if kind == "slow":
            time.sleep(float(action.get("seconds", 2)))
            if not action.get("accept", True):
                self.note_request(events, "slow_dropped")
                self.close_connection = True
                return
        failed = {}
        if kind == "partial":
            code = action.get("code", "InternalError")
            first = int(action.get("fail_first", 0))
            for i, ev in enumerate(events):
                if ev["id"] in action.get("fail_ids", []) or i < first:
                    failed[ev["id"]] = code
        self.accept(events, failed)
        self.note_request(events, "partial" if failed else "ok")
        entries = []
        for ev in events:
            e = {"EventId": ev["id"], "TraceId": uuid.uuid4().hex}
            if ev["id"] in failed:
                e["ErrorCode"] = failed[ev["id"]]
                e["ErrorMessage"] = "scripted entry failure"
            entries.append(e)
        try:
            self.reply(200, {"RequestId": str(uuid.uuid4()),
                             "ResourceOwnerAccountId": "1234567890",
                             "FailedEntryCount": len(failed),
                             "EntryList": entries})
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", help="write the bound port here")
    p.add_argument("--access-key-id", default="testAccessKeyId")
    p.add_argument("--secret", default="testSecret")
    p.add_argument("--sts-token", default="")
    p.add_argument("--bus", default="alerts-bus")
    p.add_argument("--record", help="append accepted events (JSON lines)")
    p.add_argument("--max-skew", type=float, default=900)
    p.add_argument("--max-events", type=int, default=16)
    p.add_argument("--max-request-bytes", type=int, default=262144)
    p.add_argument("--max-event-bytes", type=int, default=65536)
    p.add_argument("--verbose", action="store_true")
    opts = p.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.opts = opts
    server.state = State()
    server.record = open(opts.record, "a") if opts.record else None
    # SIGTERM stops serve_forever() from another thread. Raising
    # SystemExit in the handler instead can land inside a garbage
    # collector callback, where Python prints "Exception ignored" and runs
    # on: the fake then never exits, and whoever waits for it hangs.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(
        target=server.shutdown, daemon=True).start())
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(tmp, opts.port_file)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
