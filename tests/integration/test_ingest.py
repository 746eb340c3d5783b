#!/usr/bin/env python3
"""test_ingest.py - webhook ingest end to end on a real Kafka broker.

  test_ingest.py --alertbridge BIN [--workdir DIR] [unittest args...]

StatusCodes: every answer of `alertbridge ingest` (200, 400, 601, 401,
404, 405, 413, 415, 429, GET/HEAD probes, /healthz, /readyz, /metrics) and
HTTPS with a self-signed certificate made by openssl; every 200 has
exactly one record in the topic, byte-identical to the body, and no other
request left one. BrokerOutage: a PRIVATE broker (scripts/kafka-broker.sh
with its own AB_KAFKA_DIR; the shared one is never touched) hangs
(SIGSTOP) during a stream of requests: they get 503s, /readyz says so,
200s come back after SIGCONT, a SIGTERM under that stream answers or
refuses every request, and no 200 lacks its record. Alertmanager: a real
Prometheus Alertmanager on loopback sends firing and resolved webhooks to
the ingest of `alertbridge run`, which turns them into one create and one
close. Waits are bounded polls (AB_IT_TIMEOUT, default 90 s); without
AB_KAFKA_BROKERS the tests FAIL, they never skip.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import urllib.request
import uuid

try:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    print("test_ingest: python3-confluent-kafka is not installed "
          "(scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
WAIT = float(os.environ.get("AB_IT_TIMEOUT", "90"))
AB = None       # set by main()
WORKDIR = None  # set by main()
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def brokers():
    b = os.environ.get("AB_KAFKA_BROKERS")
    if not b:
        raise AssertionError("AB_KAFKA_BROKERS is not set: start the broker "
                             "with scripts/kafka-broker.sh start")
    return b


def wait_for(test, what, cond, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    test.fail("timed out waiting for " + what)


def create_topics(bootstrap, names, partitions=1):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(n, partitions, 1) for n in names],
                             operation_timeout=30)
    for f in fs.values():
        f.result(timeout=60)


def read_topic(bootstrap, topic, until, timeout=WAIT):
    """Every record of topic as (value, headers dict): polls until
    until(records) holds and every partition is read to the high
    watermark it had then (or the timeout; the caller asserts)."""
    c = Consumer({"bootstrap.servers": bootstrap,
                  "group.id": "it-ingest-" + uuid.uuid4().hex,
                  "enable.auto.commit": False})
    parts = c.list_topics(topic, timeout=30).topics[topic].partitions
    tps = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts]
    c.assign(tps)
    out = []
    pos = {p: -1 for p in parts}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if until(out) and all(
                    pos[p] + 1 >= c.get_watermark_offsets(
                        TopicPartition(topic, p), 10)[1] for p in parts):
                break
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            pos[m.partition()] = m.offset()
            out.append((m.value(), {k: v.decode() for k, v in
                                    (m.headers() or [])}))
    finally:
        c.close()
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Ingest:
    """`alertbridge ingest` (or `run`) on a config, its port from the log."""

    def __init__(self, test, name, config, command="ingest"):
        self.dir = os.path.join(WORKDIR, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config)
        self.log = os.path.join(self.dir, "stderr.log")
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([AB, command, "--config", self.config],
                                     stdout=self.logf, stderr=self.logf)
        test.addCleanup(self.stop)
        self.port = int(wait_for(test, name + " to serve", self._port))

    def _port(self):
        if self.proc.poll() is not None:
            raise AssertionError("exited %s:\n%s" % (self.proc.returncode,
                                                     self.text()))
        m = re.search(r'msg="serving webhooks".* port=(\d+)', self.text())
        return m and m.group(1)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def request(port, method, path, body=None, headers=None, tls=None,
            chunked=False, timeout=30):
    """(status, headers, parsed JSON body or text)."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                           context=tls)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if chunked:
            conn.putrequest(method, path)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for i in range(0, len(body), 4096):
                part = body[i:i + 4096]
                try:
                    conn.send(b"%x\r\n%s\r\n" % (len(part), part))
                except (BrokenPipeError, ConnectionResetError):
                    break
            try:
                conn.send(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data.decode()
        return r.status, dict(r.getheaders()), parsed
    finally:
        conn.close()


def raw_status(port, data):
    """The status line's code of the answer to the raw request data. The
    server may answer and close before reading all of it (the client then
    sees a reset when it writes on), so only the answer counts."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        line = b""
        while b"\r\n" not in line:
            part = s.recv(4096)
            if not part:
                break
            line += part
    return int(line.split(b" ", 2)[1]) if line.startswith(b"HTTP/") else None


def am_body(n, pad=0):
    return json.dumps({
        "version": "4", "groupKey": "{}:{alertname=\"A%d\"}" % n,
        "status": "firing", "receiver": "ingest",
        "groupLabels": {"alertname": "A%d" % n},
        "commonLabels": {"alertname": "A%d" % n}, "commonAnnotations": {},
        "externalURL": "http://am", "truncatedAlerts": 0,
        "alerts": [{"status": "firing",
                    "labels": {"alertname": "A%d" % n, "severity": "critical",
                               "pad": "x" * pad},
                    "annotations": {"summary": "s"},
                    "startsAt": "2026-01-01T00:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prom", "fingerprint": "f%d" % n}],
    }).encode()


class StatusCodes(unittest.TestCase):
    def test_every_answer_and_the_records_behind_the_200s(self):
        b = brokers()
        run = uuid.uuid4().hex[:8]
        topics = {k: "it-ingest-%s-%s" % (k, run)
                  for k in ("json", "form", "val", "rl")}
        create_topics(b, topics.values())
        d = os.path.join(WORKDIR, "codes-" + run)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokens.txt"), "w") as f:
            f.write("# rotated in\n\n  file-token-3  \n")
        os.environ["IT_INGEST_TOKEN"] = "env-token-1"
        ing = Ingest(self, "codes-" + run, """
kafka: {brokers: "%s"}
ingest:
  listen: 127.0.0.1:0
  max_body: 64KiB
  integrations:
    - {name: json, topic: %s, tokens: ["${IT_INGEST_TOKEN}", second-token],
       token_file: %s/tokens.txt, integration: alertmanager}
    - {name: form, topic: %s, tokens: [ftok], format: form,
       integration: cloudmonitor}
    - {name: val, topic: %s, tokens: [vtok], integration: alertmanager,
       validate: true}
    - {name: rl, topic: %s, tokens: [rtok], format: any,
       rate_limit: {rate: 1, burst: 2}}
""" % (b, topics["json"], d, topics["form"], topics["val"], topics["rl"]))
        p = ing.port
        ok = {k: [] for k in topics}   # (request id, body) of every 200
        refused = []                   # request ids of answers with a body

        def post(integ, path_tok, body, ctype=JSON, expect=200, **kw):
            headers = {"Content-Type": ctype} if ctype else {}
            headers.update(kw.pop("headers", {}))
            path = "/api/v1/integrations/%s%s" % (
                integ, "/" + path_tok if path_tok else "")
            st, h, j = request(p, "POST", path, body, headers, **kw)
            self.assertEqual(st, expect, (integ, path_tok, body[:80], j))
            if st == 200:
                self.assertEqual(j, {"code": 200, "message": "ok",
                                     "requestId": h["X-Request-Id"]})
                self.assertRegex(j["requestId"], r"^[0-9a-f]{24}$")
                ok[integ].append((j["requestId"], body))
            elif isinstance(j, dict) and j.get("requestId"):
                refused.append(j["requestId"])
            return st, h, j

        # 200: URL token (from ${ENV}), Bearer token, token file
        post("json", "env-token-1", am_body(1))
        post("json", None, am_body(2),
             headers={"Authorization": "Bearer second-token"})
        post("json", "file-token-3", am_body(3))
        post("json", "env-token-1", am_body(4),
             ctype="application/json; charset=utf-8")
        post("form", "ftok", b"alertName=cpu&alertState=ALERT&curValue=91"
             b"&instanceName=i-1&metricName=cpu_total&dimensions=%7B%7D",
             ctype=FORM)
        post("val", "vtok", am_body(5))
        # 401: missing, wrong, wrong length; same JSON answer
        for tok, hdr in ((None, {}), ("env-token-2", {}), ("e", {}),
                         (None, {"Authorization": "Bearer nope"})):
            st, h, j = post("json", tok, am_body(9), expect=401, headers=hdr)
            self.assertEqual(h.get("WWW-Authenticate"), "Bearer")
        # 404: unknown integration, other paths
        post("nope", "env-token-1", am_body(9), expect=404)
        st, _, _ = request(p, "GET", "/api/v2/alerts")
        self.assertEqual(st, 404)
        # 405 with Allow
        st, h, _ = request(p, "PUT", "/api/v1/integrations/json/env-token-1",
                           b"{}", {"Content-Type": JSON})
        self.assertEqual(st, 405)
        self.assertIn("POST", h["Allow"])
        # 413: by Content-Length, and chunked without one
        big = b'{"a":"' + b"x" * 70000 + b'"}'
        post("json", "env-token-1", big, expect=413)
        post("json", "env-token-1", big, expect=413, chunked=True)
        # a chunked body under the limit is fine
        post("json", "env-token-1", am_body(6), chunked=True)
        # Bodies larger than libmicrohttpd's memory per connection (16 KiB)
        # stream through it, plain and chunked; headers over it get 431.
        post("json", "env-token-1", am_body(7, pad=40000))
        post("json", "env-token-1", am_body(8, pad=40000), chunked=True)
        self.assertEqual(raw_status(p, b"POST /api/v1/integrations/json/"
                                    b"env-token-1 HTTP/1.1\r\nHost: x\r\n"
                                    b"X-Pad: " + b"x" * 20000 + b"\r\n"
                                    b"Content-Length: 0\r\n\r\n"), 431)
        # 415
        post("json", "env-token-1", am_body(9), ctype="text/plain",
             expect=415)
        post("form", "ftok", b"a=b", ctype=JSON, expect=415)
        # 400: not JSON, not form
        st, _, j = post("json", "env-token-1", b'{"a":', expect=400)
        self.assertEqual(j["code"], 400)
        self.assertIn("not JSON", j["message"])
        post("form", "ftok", b"a=b c", ctype=FORM, expect=400)
        post("form", "ftok", b"a=%zz", ctype=FORM, expect=400)
        # 601: the mapping rejects it (ARMS style), nothing written
        st, _, j = post("val", "vtok", b'{"alerts":[{"labels":{}}]}',
                        expect=400)
        self.assertEqual(j["code"], 601)
        self.assertTrue(j["message"].startswith("Invalid incident, "), j)
        # 429 after the burst, with Retry-After
        seen = []
        for i in range(6):
            st, h, j = request(p, "POST", "/api/v1/integrations/rl/rtok",
                               b"raw bytes %d" % i)
            seen.append(st)
            if st == 200:
                ok["rl"].append((j["requestId"], b"raw bytes %d" % i))
            else:
                self.assertEqual(st, 429)
                self.assertEqual(h["Retry-After"], "5")
        self.assertIn(429, seen)
        self.assertIn(200, seen)
        # probes
        for m in ("GET", "HEAD"):
            st, _, _ = request(p, m, "/api/v1/integrations/json/env-token-1")
            self.assertEqual(st, 200)
        st, _, _ = request(p, "GET", "/api/v1/integrations/json/bad")
        self.assertEqual(st, 401)
        self.assertEqual(request(p, "GET", "/healthz")[0], 200)
        self.assertEqual(request(p, "GET", "/readyz")[0], 200)
        st, _, text = request(p, "GET", "/metrics")
        self.assertIn('alertbridge_ingest_requests_total{integration="json",'
                      'code="401"} 5', text)
        self.assertIn('alertbridge_ingest_ack_seconds_count{integration='
                      '"json"} 7', text)
        # The standalone ingest is its process's only metrics listener.
        self.assertRegex(text, r'(?m)^alertbridge_build_info\{version="')
        self.assertRegex(text, r'(?m)^process_resident_memory_bytes [1-9]')

        # The records: one per 200, byte-identical, headers set, and no
        # record for any other answer.
        for k, topic in topics.items():
            want = ok[k]
            recs = read_topic(b, topic, lambda r: len(r) >= len(want))
            by_id = {}
            for value, hdrs in recs:
                by_id.setdefault(hdrs["alertbridge-request-id"], []).append(
                    (value, hdrs))
            self.assertEqual(len(recs), len(want), k)
            for rid, body in want:
                self.assertEqual(len(by_id.get(rid, [])), 1, (k, rid))
                value, hdrs = by_id[rid][0]
                self.assertEqual(value, body)
                self.assertRegex(hdrs["alertbridge-received-at"],
                                 r"^\d{4}-\d\d-\d\dT.*Z$")
                if k in ("json", "val"):
                    self.assertEqual(hdrs["alertbridge-integration"],
                                     "alertmanager")
                    self.assertTrue(hdrs["content-type"].startswith(JSON))
            for rid in refused:
                self.assertNotIn(rid, by_id)
        # SIGHUP (systemctl reload, a closed terminal) does not end it.
        ing.proc.send_signal(signal.SIGHUP)
        post("json", "env-token-1", am_body(10))
        self.assertIsNone(ing.proc.poll())
        self.assertEqual(ing.stop(), 0)

    def test_https_with_a_self_signed_certificate(self):
        b = brokers()
        run = uuid.uuid4().hex[:8]
        topic = "it-ingest-tls-" + run
        create_topics(b, [topic])
        d = os.path.join(WORKDIR, "tls-" + run)
        os.makedirs(d, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", os.path.join(d, "key.pem"),
             "-out", os.path.join(d, "cert.pem"), "-days", "1",
             "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True)
        ing = Ingest(self, "tls-" + run, """
kafka: {brokers: "%s"}
ingest:
  listen: 127.0.0.1:0
  tls: {cert_file: %s/cert.pem, key_file: %s/key.pem}
  integrations:
    - {name: am, topic: %s, tokens: [t0k]}
""" % (b, d, d, topic))
        ctx = ssl.create_default_context(cafile=os.path.join(d, "cert.pem"))
        body = am_body(7)
        st, _, j = request(ing.port, "POST", "/api/v1/integrations/am/t0k",
                           body, {"Content-Type": JSON}, tls=ctx)
        self.assertEqual(st, 200, j)
        with self.assertRaises((http.client.HTTPException, OSError)):
            request(ing.port, "POST", "/api/v1/integrations/am/t0k", body,
                    {"Content-Type": JSON}, timeout=5)
        recs = read_topic(b, topic, lambda r: len(r) >= 1)
        self.assertEqual([r[0] for r in recs], [body])
        self.assertEqual(ing.stop(), 0)


class BrokerOutage(unittest.TestCase):
    """A private broker, frozen with SIGSTOP (a hung broker: connections
    stay open, nothing answers) and thawed with SIGCONT, which takes no
    restart; the shared broker is never touched."""

    def broker(self, *args):
        env = dict(os.environ, AB_KAFKA_DIR=self.bdir,
                   AB_KAFKA_HEAP="-Xms128m -Xmx384m")
        r = subprocess.run([os.path.join(REPO, "scripts", "kafka-broker.sh")]
                           + list(args), env=env, capture_output=True,
                           text=True, timeout=180)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def signal_broker(self, sig):
        with open(os.path.join(self.bdir, "broker.pid")) as f:
            os.kill(int(f.read().strip()), sig)

    def test_outage_gives_503s_and_no_200_without_a_record(self):
        run = uuid.uuid4().hex[:8]
        self.bdir = os.path.join(WORKDIR, "outage-broker-" + run)
        out = self.broker("start")
        self.addCleanup(self.broker, "stop")
        self.addCleanup(self.signal_broker, signal.SIGCONT)
        b = re.search(r"AB_KAFKA_BROKERS=(\S+)", out).group(1)
        topic = "it-ingest-outage-" + run
        create_topics(b, [topic], partitions=2)
        ing = Ingest(self, "outage-" + run, """
kafka: {brokers: "%s"}
ingest:
  listen: 127.0.0.1:0
  delivery_timeout: 3s
  retry_after: 1s
  shutdown_timeout: 5s
  integrations:
    - {name: am, topic: %s, tokens: [tok], format: any}
""" % (b, topic))
        results = []  # (status, request id, body) of every answer
        refused = []  # requests whose connection failed before an answer
        lock = threading.Lock()
        stop = threading.Event()

        def stream(worker):
            i = 0
            while not stop.is_set():
                body = b"w%d-%d-" % (worker, i) + uuid.uuid4().hex.encode()
                i += 1
                try:
                    st, _, j = request(ing.port, "POST",
                                       "/api/v1/integrations/am/tok", body,
                                       timeout=20)
                except OSError as e:
                    with lock:
                        refused.append(type(e).__name__)
                    time.sleep(0.05)
                    continue
                with lock:
                    results.append((st, j.get("requestId"), body))
                if st != 200:
                    time.sleep(0.05)

        def count(status):
            with lock:
                return sum(1 for r in results if r[0] == status)

        threads = [threading.Thread(target=stream, args=(w,))
                   for w in range(4)]
        for t in threads:
            t.start()
        try:
            wait_for(self, "200s before the outage", lambda: count(200) >= 50)
            self.signal_broker(signal.SIGSTOP)
            wait_for(self, "503s during the outage",
                     lambda: count(503) >= 20)
            wait_for(self, "/readyz 503",
                     lambda: request(ing.port, "GET", "/readyz")[0] == 503)
            before = count(200)
            self.signal_broker(signal.SIGCONT)
            wait_for(self, "200s after the outage",
                     lambda: count(200) >= before + 50)
            # SIGTERM while the stream goes on: every request is answered
            # or its connection refused.
            self.assertEqual(ing.stop(), 0)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        statuses = {r[0] for r in results}
        self.assertLessEqual(statuses, {200, 503}, statuses)
        good = [(rid, body) for st, rid, body in results if st == 200]
        recs = read_topic(b, topic, lambda r: len(r) >= len(good))
        by_id = {}
        for value, hdrs in recs:
            by_id.setdefault(hdrs["alertbridge-request-id"], []).append(value)
        for rid, body in good:
            self.assertEqual(by_id.get(rid), [body], rid)
        print("outage: %d answers, %d x 200, %d x 503, %d records; "
              "connections refused at exit: %s"
              % (len(results), len(good), count(503), len(recs),
                 {e: refused.count(e) for e in set(refused)}),
              file=sys.stderr)


class Alertmanager(unittest.TestCase):
    def test_firing_then_resolved_become_one_create_and_one_close(self):
        am_bin = shutil.which("prometheus-alertmanager") or \
            shutil.which("alertmanager")
        self.assertIsNotNone(am_bin, "prometheus-alertmanager is not "
                             "installed (scripts/install-deps.sh)")
        b = brokers()
        run = uuid.uuid4().hex[:8]
        raw, events, dlq = ("it-ingest-am-%s-%s" % (k, run)
                            for k in ("raw", "events", "dlq"))
        create_topics(b, [raw, events, dlq])
        port = free_port()
        pl = Ingest(self, "am-run-" + run, """
kafka: {brokers: "%s", group: it-ingest-am-%s}
inputs: [{topics: [%s], integration: alertmanager}]
output: {topic: %s}
dead_letter_topic: %s
state: {store: memory}
ingest:
  listen: 127.0.0.1:%d
  integrations:
    - {name: alertmanager, topic: %s, tokens: [amtok],
       integration: alertmanager, validate: true}
""" % (b, run, raw, events, dlq, port, raw), command="run")
        d = os.path.join(WORKDIR, "am-" + run)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "alertmanager.yml"), "w") as f:
            f.write("""
route:
  receiver: ingest
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: ingest
    webhook_configs:
      - url: http://127.0.0.1:%d/api/v1/integrations/alertmanager
        send_resolved: true
        http_config:
          authorization: {credentials: amtok}
""" % pl.port)
        am_port = free_port()
        am_log = open(os.path.join(d, "alertmanager.log"), "w")
        am = subprocess.Popen(
            [am_bin, "--config.file=" + os.path.join(d, "alertmanager.yml"),
             "--storage.path=" + os.path.join(d, "data"),
             "--web.listen-address=127.0.0.1:%d" % am_port,
             "--cluster.listen-address="],
            stdout=am_log, stderr=am_log)

        def stop_am():
            am.terminate()
            am.wait(30)
            am_log.close()
        self.addCleanup(stop_am)
        api = "http://127.0.0.1:%d/api/v2/alerts" % am_port

        def post_alert(ends):
            alert = [{"labels": {"alertname": "IngestIT" + run,
                                 "severity": "critical", "instance": "db1"},
                      "annotations": {"summary": "disk full"},
                      "startsAt": "2026-01-01T00:00:00Z",
                      "endsAt": ends}]
            req = urllib.request.Request(
                api, json.dumps(alert).encode(),
                {"Content-Type": JSON}, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(self, "alertmanager to take the alert",
                 lambda: post_alert("2099-01-01T00:00:00Z"))
        types = lambda r: [json.loads(v)["type"] for v, _ in r]
        recs = read_topic(b, events, lambda r: len(r) >= 1)
        self.assertEqual(types(recs), ["aliyun:arms:alarm:create"])
        wait_for(self, "alertmanager to take the resolution",
                 lambda: post_alert(time.strftime(
                     "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))))
        recs = read_topic(b, events, lambda r: len(r) >= 2)
        self.assertEqual(types(recs), ["aliyun:arms:alarm:create",
                                       "aliyun:arms:alarm:close"])
        raws = read_topic(b, raw, lambda r: len(r) >= 2, timeout=5)
        self.assertEqual([json.loads(v)["status"] for v, _ in raws],
                         ["firing", "resolved"])
        self.assertEqual(pl.stop(), 0)


def main():
    global AB, WORKDIR
    ap = argparse.ArgumentParser()
    ap.add_argument("--alertbridge", required=True)
    ap.add_argument("--workdir", default=None)
    args, rest = ap.parse_known_args()
    AB = args.alertbridge
    WORKDIR = args.workdir or os.path.join(REPO, "build", "it-ingest")
    os.makedirs(WORKDIR, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
