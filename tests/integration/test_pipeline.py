#!/usr/bin/env python3
"""test_pipeline.py - `alertbridge run` end to end against a real Kafka broker.

Every test starts the real binary with its own configuration, unique topics
and a unique consumer group, produces raw alerts with a real Kafka client
(python3-confluent-kafka), reads what alertbridge wrote back from the broker
and checks it: events against schemas/event.schema.json and for content,
dead letters byte for byte with their headers, committed offsets, metrics.

  test_pipeline.py --alertbridge BIN [--workdir DIR] [unittest args...]

The broker comes from AB_KAFKA_BROKERS (scripts/kafka-broker.sh start prints
it); without it every test FAILS, it never skips. The broker-restart test
restarts that broker with `scripts/kafka-broker.sh restart`, so AB_KAFKA_DIR
(also printed by the script) must name its run directory.

Waits are bounded polls of a condition (AB_IT_TIMEOUT seconds, default 90);
nothing sleeps to synchronize. Each alertbridge's stderr is kept in the work
directory and its tail is printed when a wait fails.
"""

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

try:
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    print("test_pipeline: python3-confluent-kafka is not installed "
          "(scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(2)
try:
    import jsonschema
except ImportError:
    print("test_pipeline: python3-jsonschema is not installed "
          "(scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEMO = os.path.join(REPO, "examples", "demo")
WAIT = float(os.environ.get("AB_IT_TIMEOUT", "90"))
POLL = 0.05

ALERTBRIDGE = None  # set by main()
WORKDIR = None      # set by main()
# The test's own Kafka clients log here (a file in the work directory,
# set up by main()) instead of cluttering the test output.
CLIENT_LOG = logging.getLogger("kafka-clients")

STRUCTURED_CT = b"application/cloudevents+json; charset=UTF-8"
INTEGRATION_HEADER = "alertbridge-integration"
DLQ_HEADERS = ("alertbridge.error.code", "alertbridge.error.message",
               "alertbridge.source.topic", "alertbridge.source.partition",
               "alertbridge.source.offset", "alertbridge.integration")


def demo_payload(name):
    with open(os.path.join(DEMO, name), "rb") as f:
        return f.read().strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_validator():
    with open(os.path.join(REPO, "schemas", "event.schema.json"),
              encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


VALIDATOR = event_validator()


def generic_alert(alertname, severity="P3", **fields):
    doc = {"alertname": alertname, "severity": severity,
           "message": "integration test alert " + alertname}
    doc.update(fields)
    return json.dumps(doc).encode()


def headers_of(msg):
    return list(msg.headers() or [])


def header(msg, name):
    """The last value of header `name` of `msg`, or None."""
    value = None
    for k, v in headers_of(msg):
        if k == name:
            value = v
    return value


def alert_of(event):
    """The one alert of a structured event (data.data.alerts[0])."""
    return event["data"]["data"]["alerts"][0]


# --------------------------------------------------------------- processes


class Alertbridge:
    """One `alertbridge run` process with its own config file and log."""

    def __init__(self, test, name, config):
        self.test = test
        self.name = name
        self.config = config
        self.port = None
        # A port we chose is chosen again at every start: between a stop
        # and the next start any outgoing connection on this busy machine
        # may take the old one as its ephemeral port.
        self.own_port = config.setdefault("http", {}).get("listen") is None
        self.config_path = os.path.join(test.dir, name + ".json")
        self.log_path = os.path.join(test.dir, name + ".log")
        self.proc = None
        self.logf = None
        self.runs = 0
        self.stopping = False

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        if self.own_port:
            self.port = free_port()
            self.config["http"]["listen"] = "127.0.0.1:%d" % self.port
        self.write_config()
        self.logf = open(self.log_path, "ab")
        self.runs += 1
        self.logf.write(b"==== run %d\n" % self.runs)
        self.logf.flush()
        self.stopping = False
        self.proc = subprocess.Popen(
            [ALERTBRIDGE, "run", "--config", self.config_path],
            stdin=subprocess.DEVNULL, stdout=self.logf,
            stderr=subprocess.STDOUT)
        self.test.addCleanup(self.kill)
        return self

    def write_config(self):
        """Writes `config` to `config_path` (JSON, which is also YAML)."""
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(self.config, f, indent=2)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Send `sig` and wait for the exit; returns the exit status."""
        self.stopping = True
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.test.fail("%s ignored %s for %ss\n%s" %
                           (self.name, signal.Signals(sig).name, WAIT,
                            self.tail()))
        self.logf.close()
        return rc

    def kill(self):
        """Cleanup: a process still running after its test is killed."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self.logf:
            self.logf.close()

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def tail(self, lines=40):
        text = self.log().splitlines()[-lines:]
        return "---- %s (%s), last lines:\n%s" % (
            self.name, self.log_path, "\n".join(text))

    def http(self, path, method="GET"):
        """(status, body) of a request to the HTTP server."""
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.port, path), method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        status, body = self.http("/metrics")
        self.test.assertEqual(status, 200, body)
        return parse_metrics(body)

    def total(self, name):
        """The sum of every series of metric `name`, whatever its labels."""
        return sum(v for k, v in self.metrics().items()
                   if k.split("{")[0] == name)

    def wait_ready(self):
        def ready():
            try:
                return self.http("/readyz")[0] == 200
            except (urllib.error.URLError, ConnectionError):
                return False
        self.test.wait_for(ready, "%s /readyz answers 200" % self.name)


def parse_metrics(text):
    """Prometheus text -> {'name{labels}': float} (HELP/TYPE dropped)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        out[series] = float(value)
    return out


class TopicReader:
    """Reads every partition of a topic from the beginning, keeping all
    records in `messages` (in arrival order). `props` adds consumer
    properties (such as isolation.level)."""

    def __init__(self, test, topic, props=None):
        self.test = test
        self.topic = topic
        self.messages = []
        conf = {
            "logger": CLIENT_LOG,
            "bootstrap.servers": test.brokers,
            "group.id": "reader-" + uuid.uuid4().hex,
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
        conf.update(props or {})
        self.consumer = Consumer(conf)
        md = self.consumer.list_topics(topic, timeout=WAIT)
        parts = sorted(md.topics[topic].partitions)
        test.assertTrue(parts, "topic %s has no partitions" % topic)
        self.consumer.assign([TopicPartition(topic, p, -2) for p in parts])
        test.addCleanup(self.consumer.close)

    def pump(self, timeout=0.1):
        """Collect what arrived within `timeout`; returns how many."""
        got = 0
        for msg in self.consumer.consume(1000, timeout):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                self.test.fail("reading %s: %s" % (self.topic, err))
            self.messages.append(msg)
            got += 1
        return got

    def wait_count(self, n, what=None):
        """Wait until at least `n` records were read; returns them all."""
        self.test.wait_for(lambda: self.pump() >= 0 and
                           len(self.messages) >= n,
                           what or "%d records on %s" % (n, self.topic))
        return self.messages

    def events(self):
        return [json.loads(m.value()) for m in self.messages]


class Stream:
    """A thread producing distinct generic alerts (alertname and source
    both carry the record key) to `topic` until finish(). Its producer
    keeps accepting records while the brokers are away (no message
    timeout) and delivers them when they are back."""

    def __init__(self, test, topic, prefix):
        self.test = test
        self.topic = topic
        self.prefix = prefix
        self.producer = Producer({
            "logger": CLIENT_LOG,
            "bootstrap.servers": test.brokers,
            "enable.idempotence": True,
            "message.timeout.ms": 0,
            "reconnect.backoff.max.ms": 500,
        })
        self.produced = 0
        self.delivered = set()
        self.failed = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        self.thread.start()
        self.test.addCleanup(self.stop.set)
        return self

    def report(self, err, msg):
        with self.lock:
            if err is None:
                self.delivered.add(msg.key().decode())
            else:
                self.failed.append((msg.key(), err))

    def run(self):
        while not self.stop.is_set():
            key = "%s-%05d" % (self.prefix, self.produced)
            self.producer.produce(self.topic, generic_alert(key, source=key),
                                  key=key.encode(), on_delivery=self.report)
            self.produced += 1
            self.producer.poll(0.01)  # also paces the stream

    def wait_more(self, n, what):
        """Wait until `n` more records than now were produced."""
        mark = self.produced
        self.test.wait_for(lambda: self.produced >= mark + n, what)

    def finish(self):
        """Stop, deliver everything; returns the set of delivered keys."""
        self.stop.set()
        self.thread.join(WAIT)
        self.test.assertFalse(self.thread.is_alive())
        self.test.assertEqual(self.producer.flush(WAIT), 0,
                              "the stream was not delivered")
        self.test.assertEqual(self.failed, [])
        self.test.assertEqual(len(self.delivered), self.produced)
        return set(self.delivered)


def sources(reader):
    """{labels.source: how many events} of the events `reader` read."""
    counts = {}
    for m in reader.messages:
        src = alert_of(json.loads(m.value()))["labels"]["source"]
        counts[src] = counts.get(src, 0) + 1
    return counts


# --------------------------------------------------------------- test base


class PipelineTest(unittest.TestCase):
    """Per test: a fresh directory, unique names, cleanup of processes."""

    @classmethod
    def setUpClass(cls):
        brokers = os.environ.get("AB_KAFKA_BROKERS")
        if not brokers:
            raise AssertionError(
                "AB_KAFKA_BROKERS is not set: start the test broker with "
                "`eval \"$(scripts/kafka-broker.sh start)\"` first")
        cls.brokers = brokers
        cls.admin = AdminClient({"logger": CLIENT_LOG,
                                 "bootstrap.servers": brokers})

    def setUp(self):
        self.run_id = "%s-%s" % (self._testMethodName.replace("_", "-"),
                                 uuid.uuid4().hex[:8])
        self.dir = os.path.join(WORKDIR, self.run_id)
        os.makedirs(self.dir)
        self.processes = []
        self.producer = Producer({
            "logger": CLIENT_LOG,
            "bootstrap.servers": self.brokers,
            "enable.idempotence": True,
            "linger.ms": 0,
        })

    # ---- names and topics

    def topic(self, name):
        return "it.%s.%s" % (self.run_id, name)

    def group(self, name="ab"):
        return "it.%s.%s" % (self.run_id, name)

    def create_topics(self, *names, partitions=1):
        topics = [self.topic(n) for n in names]
        futures = self.admin.create_topics(
            [NewTopic(t, num_partitions=partitions, replication_factor=1)
             for t in topics], operation_timeout=WAIT)
        for t, fut in futures.items():
            fut.result(WAIT)
        self.addCleanup(self.delete_topics, topics)
        # Wait until the test's producer sees each topic with its leaders
        # (which also spares it a metadata round trip at the first send).
        def known(t):
            md = self.producer.list_topics(t, timeout=WAIT).topics[t]
            return md.error is None and \
                len(md.partitions) == partitions and \
                all(p.leader >= 0 for p in md.partitions.values())
        for t in topics:
            self.wait_for(lambda: known(t), "topic %s created" % t)
        return topics

    def delete_topics(self, topics):
        for fut in self.admin.delete_topics(topics,
                                            operation_timeout=WAIT).values():
            try:
                fut.result(WAIT)
            except Exception:  # cleanup only: the broker may be gone
                pass

    # ---- producing

    def produce(self, topic, value, key=None, headers=None, partition=None):
        """Produce one record synchronously; returns (partition, offset)."""
        done = []

        def report(err, msg):
            done.append((err, msg))
        kwargs = {"value": value, "key": key, "on_delivery": report}
        if headers is not None:
            kwargs["headers"] = headers
        if partition is not None:
            kwargs["partition"] = partition
        self.producer.produce(topic, **kwargs)
        self.assertEqual(self.producer.flush(WAIT), 0, "produce timed out")
        err, msg = done[0]
        self.assertIsNone(err, "producing to %s failed" % topic)
        return msg.partition(), msg.offset()

    # ---- alertbridge

    def config(self, inputs, output_topic, dlq_topic, **extra):
        cfg = {
            "kafka": {"brokers": self.brokers, "group": self.group()},
            "inputs": inputs,
            "output": {"topic": output_topic, "source": "it-" + self.run_id},
            "dead_letter_topic": dlq_topic,
            "log_level": "info",
        }
        for k, v in extra.items():
            if isinstance(v, dict) and isinstance(cfg.get(k), dict):
                cfg[k].update(v)
            else:
                cfg[k] = v
        return cfg

    def alertbridge(self, config, name="alertbridge"):
        ab = Alertbridge(self, name, config)
        self.processes.append(ab)
        return ab

    def stop_ok(self, ab, sig=signal.SIGTERM):
        rc = ab.stop(sig)
        self.assertEqual(rc, 0, "%s exited %d after %s\n%s" %
                         (ab.name, rc, signal.Signals(sig).name, ab.tail()))
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            self.assertNotIn(mark, ab.log(), "sanitizer report\n" + ab.tail())

    # ---- waiting

    def wait_for(self, cond, what, timeout=WAIT):
        """Poll `cond` until true; fail after `timeout` or as soon as an
        alertbridge of this test exits on its own."""
        deadline = time.monotonic() + timeout
        while True:
            if cond():
                return
            for ab in self.processes:
                if not ab.stopping and ab.proc is not None and \
                        ab.proc.poll() is not None:
                    self.fail("%s exited (%d) while waiting for %s\n%s" %
                              (ab.name, ab.proc.returncode, what, ab.tail()))
            if time.monotonic() >= deadline:
                self.fail("timed out after %ss waiting for %s\n%s" %
                          (timeout, what, "\n".join(
                              ab.tail() for ab in self.processes)))
            time.sleep(POLL)

    # ---- checks

    def assert_event(self, msg):
        """`msg` is a valid structured-mode event record keyed by its
        fingerprint; returns the event."""
        self.assertEqual(header(msg, "content-type"), STRUCTURED_CT)
        ev = json.loads(msg.value())
        errors = ["%s: %s" % ("/".join(str(p) for p in e.absolute_path),
                              e.message) for e in VALIDATOR.iter_errors(ev)]
        self.assertEqual(errors, [], "schema violations in %s" % ev)
        self.assertEqual(msg.key().decode(), alert_of(ev)["fingerprint"])
        self.assertEqual(ev["source"], "it-" + self.run_id)
        self.assertEqual(ev["subject"], "%s/%s" %
                         (ev["integration"], ev["alertid"]))
        return ev


# --------------------------------------------------------------- the tests


class MappedEvents(PipelineTest):
    def test_builtin_and_custom_integrations(self):
        am, cm, cme, gen, net, dlq = self.create_topics(
            "am", "cm", "cme", "gen", "net", "dlq")
        # Several output partitions: records keyed by fingerprint keep one
        # alert's events in order on one of them.
        out, = self.create_topics("out", partitions=3)
        # The seed-001 custom integration, bound by a path relative to the
        # config file.
        os.makedirs(os.path.join(self.dir, "integrations"))
        shutil.copy(os.path.join(REPO, "examples", "integrations",
                                 "network-monitor.yaml"),
                    os.path.join(self.dir, "integrations"))
        ab = self.alertbridge(self.config(
            [{"topics": [am], "integration": "alertmanager"},
             {"topics": [cm], "integration": "cloudmonitor"},
             {"topics": [cme], "integration": "cloudmonitor-event"},
             {"topics": [gen], "integration": "generic"},
             {"topics": [net],
              "integration": "integrations/network-monitor.yaml"}],
            out, dlq)).start()
        self.produce(am, demo_payload("alertmanager.1.json"), key=b"am-1")
        self.produce(am, demo_payload("alertmanager.2.json"), key=b"am-2")
        self.produce(cm, demo_payload("cloudmonitor.1.txt"))
        self.produce(cme, demo_payload("cloudmonitor-event.1.json"))
        self.produce(gen, demo_payload("generic.1.json"))
        self.produce(net, demo_payload("network.1.json"))

        reader = TopicReader(self, out)
        msgs = reader.wait_count(8)
        self.stop_ok(ab)
        reader.pump(1.0)
        self.assertEqual(len(reader.messages), 8,
                         [m.value() for m in reader.messages])
        events = [self.assert_event(m) for m in msgs]

        def find(integration, alertname, kind="create"):
            found = [e for e in events if e["integration"] == integration and
                     alert_of(e)["labels"]["alertname"] == alertname and
                     e["type"] == "aliyun:arms:alarm:" + kind]
            self.assertEqual(len(found), 1, "%s %s %s in %s" %
                             (integration, alertname, kind, events))
            return found[0]

        high = find("alertmanager", "HighErrorRate")
        self.assertEqual(high["data"]["data"]["level"], "P1")
        labels = alert_of(high)["labels"]
        self.assertEqual(labels["severity"], "P1")  # critical
        self.assertEqual(labels["instance"], "10.0.3.17:9100")
        self.assertEqual(labels["team"], "payments")
        self.assertEqual(alert_of(high)["annotations"]["message"],
                         "5xx ratio above 5% on checkout")
        self.assertEqual(high["data"]["data"]["status"], "firing")
        disk = find("alertmanager", "DiskFillingUp")
        self.assertEqual(disk["data"]["data"]["level"], "P3")  # warning
        closed = find("alertmanager", "HighErrorRate", "close")
        self.assertEqual(closed["data"]["data"]["status"], "resolved")
        self.assertEqual(closed["alertid"], high["alertid"])
        self.assertEqual(alert_of(closed)["fingerprint"],
                         alert_of(high)["fingerprint"])
        m_high, m_closed = (msgs[events.index(e)] for e in (high, closed))
        self.assertEqual(m_closed.partition(), m_high.partition())
        self.assertGreater(m_closed.offset(), m_high.offset())
        self.assertGreater(len({m.partition() for m in msgs}), 1,
                           "8 events with 7 keys all on one partition")

        cmon = find("cloudmonitor", "API网关_返回码5XX个数")
        self.assertEqual(cmon["data"]["data"]["level"], "P1")
        self.assertEqual(alert_of(cmon)["labels"]["namespace"],
                         "acs_apigateway")
        cev = find("cloudmonitor-event",
                   "Instance:SystemMaintenance.Reboot:Scheduled")
        self.assertEqual(cev["data"]["data"]["level"], "P1")
        self.assertEqual(alert_of(cev)["labels"]["instanceId"],
                         "i-bp1ecr0000005go2go")
        backup = find("generic", "BackupFailed")
        self.assertEqual(backup["data"]["data"]["level"], "P3")
        self.assertEqual(alert_of(backup)["labels"]["source"], "backup-01")

        # Batch processing: one event per metadata element.
        net_events = [e for e in events
                      if e["integration"] == "network-monitor"]
        self.assertEqual(len(net_events), 2)
        self.assertEqual(
            sorted((alert_of(e)["labels"]["source"],
                    alert_of(e)["labels"]["service"]) for e in net_events),
            [("141.219.XX.XX", "login-0"), ("172.1.XX.XX", "ms-login-2252")])
        for e in net_events:
            self.assertEqual(e["type"], "aliyun:arms:alarm:create")
            self.assertEqual(e["data"]["data"]["level"], "P1")  # MAX
            self.assertEqual(alert_of(e)["labels"]["alertname"],
                             "network_package errors > 5%")

        # No policy: no owner, no dispatch rule.
        for e in events:
            self.assertEqual(e["data"]["owner"], "")
            self.assertEqual(e["data"]["data"]["dispatchRuleName"], "")
        self.assertEqual(len({e["id"] for e in events}), 8)
        # Nothing was rejected.
        self.assertEqual(TopicReader(self, dlq).pump(1.0), 0)


class PolicyRouting(PipelineTest):
    def test_policies_route_and_set_owner(self):
        gen, out, urgent, dlq = self.create_topics("gen", "out", "urgent",
                                                   "dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [gen], "integration": "generic"}], out, dlq,
            output={"policies": [
                {"name": "O&M team", "owner": "ops-oncall",
                 "when": {"severity": ["P1", "P2"]}, "topic": urgent},
                {"name": "DB team", "owner": "dba",
                 "when": {"labels": {"team": "db"}}},
            ]})).start()
        for name, sev, labels in (("p1", "P1", {}), ("p2", "P2",
                                                     {"team": "db"}),
                                  ("p3db", "P3", {"team": "db"}),
                                  ("p4", "P4", {}), ("p3", "P3", {})):
            self.produce(gen, generic_alert(name, sev, labels=labels))
        urgent_r = TopicReader(self, urgent)
        out_r = TopicReader(self, out)
        urgent_r.wait_count(2)
        out_r.wait_count(3)
        self.stop_ok(ab)
        urgent_r.pump(1.0)
        out_r.pump(1.0)

        def by_name(reader):
            evs = {}
            for m in reader.messages:
                ev = self.assert_event(m)
                evs[alert_of(ev)["labels"]["alertname"]] = ev
            self.assertEqual(len(evs), len(reader.messages))
            return evs
        u = by_name(urgent_r)
        o = by_name(out_r)
        self.assertEqual(sorted(u), ["p1", "p2"])
        self.assertEqual(sorted(o), ["p3", "p3db", "p4"])
        for ev in u.values():
            # First match wins: p2 also has team=db.
            self.assertEqual(ev["data"]["owner"], "ops-oncall")
            self.assertEqual(ev["data"]["data"]["dispatchRuleName"],
                             "O&M team")
        self.assertEqual(o["p3db"]["data"]["owner"], "dba")
        self.assertEqual(o["p3db"]["data"]["data"]["dispatchRuleName"],
                         "DB team")
        for name in ("p3", "p4"):
            self.assertEqual(o[name]["data"]["owner"], "")
            self.assertEqual(o[name]["data"]["data"]["dispatchRuleName"], "")


class Bindings(PipelineTest):
    def test_structured_and_binary(self):
        am, out_s, out_b, dlq = self.create_topics(
            "am", "out-structured", "out-binary", "dlq")
        inputs = [{"topics": [am], "integration": "alertmanager"}]
        # The same input records, in the same order (event ids count the
        # alerts opened), through both bindings.
        self.produce(am, demo_payload("alertmanager.1.json"))
        self.produce(am, demo_payload("alertmanager.2.json"))
        self.produce(am, demo_payload("generic.1.json"),
                     headers=[(INTEGRATION_HEADER, b"generic")])
        structured = self.alertbridge(self.config(
            inputs, out_s, dlq, output={"binding": "structured"}),
            "structured").start()
        cfg = self.config(inputs, out_b, dlq, output={"binding": "binary"})
        cfg["kafka"]["group"] = self.group("binary")
        binary = self.alertbridge(cfg, "binary").start()
        rs = TopicReader(self, out_s)
        rb = TopicReader(self, out_b)
        rs.wait_count(4)
        rb.wait_count(4)
        self.stop_ok(structured)
        self.stop_ok(binary)

        s_events = {}
        for m in rs.messages:
            ev = self.assert_event(m)
            self.assertEqual([k for k, _ in headers_of(m)], ["content-type"])
            s_events[ev["id"]] = (m.key(), ev)
        self.assertEqual(len(s_events), 4)

        seen = set()
        for m in rb.messages:
            hdrs = headers_of(m)
            names = [k for k, _ in hdrs]
            self.assertEqual(len(names), len(set(names)), hdrs)
            h = {k: v.decode() for k, v in hdrs}
            content_type = h.pop("content-type")
            self.assertEqual(content_type, "application/json")
            for k in h:
                self.assertTrue(k.startswith("ce_"), hdrs)
            # Same record, same event: the binary record carries exactly
            # the structured event's attributes (datacontenttype as the
            # content-type header) and its data as the value.
            key, ev = s_events[h["ce_id"]]
            seen.add(h["ce_id"])
            self.assertEqual(m.key(), key)
            attrs = {"ce_" + k: (str(v) if not isinstance(v, str) else v)
                     for k, v in ev.items()
                     if k not in ("data", "datacontenttype")}
            self.assertEqual(h, attrs)
            self.assertEqual(content_type, ev["datacontenttype"])
            self.assertEqual(h["ce_specversion"], "1.0")
            self.assertEqual(json.loads(m.value()), ev["data"])
            # Rebuilt as a structured event, it satisfies the schema.
            rebuilt = {k[3:]: v for k, v in h.items()}
            rebuilt["datacontenttype"] = content_type
            if "alertcount" in rebuilt:
                rebuilt["alertcount"] = int(rebuilt["alertcount"])
            rebuilt["data"] = json.loads(m.value())
            self.assertEqual(list(VALIDATOR.iter_errors(rebuilt)), [])
        self.assertEqual(seen, set(s_events))


class DeadLetters(PipelineTest):
    def test_bad_records_go_to_the_dlq_unchanged(self):
        am, gen, unbound, actions, out, dlq = self.create_topics(
            "am", "gen", "unbound", "actions", "out", "dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [am], "integration": "alertmanager"},
             {"topics": [gen], "integration": "generic"},
             {"topics": [unbound]}],
            out, dlq, actions_topic=actions)).start()
        binary = bytes(range(256))
        cases = []  # (topic, key, value, headers, code, integration)

        def bad(topic, value, code, integration, key=None, headers=None):
            part, off = self.produce(topic, value, key=key, headers=headers)
            cases.append({"topic": topic, "partition": part, "offset": off,
                          "key": key, "value": value,
                          "headers": headers or [], "code": code,
                          "integration": integration})

        bad(am, b'{"receiver": "x", "alerts": [{"labels": ', "decode",
            "alertmanager", key=b"k-decode",
            headers=[("trace-id", b"abc-123"), ("x-bytes", binary),
                     ("trace-id", b"second")])
        bad(am, None, "decode", None, key=b"k-null-value")
        bad(gen, b'{"severity": "P2", "message": "who am I"}',
            "no_alertname", "generic", key=b"k-noname")
        bad(unbound, generic_alert("unbound"), "no_integration", None,
            headers=[("origin", b"unbound-topic")])
        bad(gen, generic_alert("unknown-header"), "no_integration", None,
            key=b"k-unknown",
            headers=[(INTEGRATION_HEADER, b"no-such-integration")])
        bad(actions, b'{"action": "frobnicate", "alert_id": "%s"}' %
            (b"0" * 32), "action_invalid", None)
        bad(actions, b"not json at all", "action_invalid", None,
            key=b"k-action")
        bad(actions, json.dumps({"action": "claim", "alert_id": "f" * 32,
                                 "operator": "alice"}).encode(),
            "action_unknown_alert", None)
        # Bad data never stops the pipeline: a good record after them all
        # still becomes an event.
        self.produce(gen, generic_alert("still-alive"))
        out_r = TopicReader(self, out)
        dlq_r = TopicReader(self, dlq)
        out_r.wait_count(1)
        dlq_r.wait_count(len(cases))
        self.stop_ok(ab)
        dlq_r.pump(1.0)
        out_r.pump(0.5)
        self.assertEqual(len(dlq_r.messages), len(cases))
        self.assertEqual(len(out_r.messages), 1)
        ev = self.assert_event(out_r.messages[0])
        self.assertEqual(alert_of(ev)["labels"]["alertname"], "still-alive")

        by_origin = {}
        for m in dlq_r.messages:
            origin = (header(m, "alertbridge.source.topic").decode(),
                      int(header(m, "alertbridge.source.offset")))
            self.assertNotIn(origin, by_origin)
            by_origin[origin] = m
        for c in cases:
            with self.subTest(code=c["code"], topic=c["topic"],
                              offset=c["offset"]):
                m = by_origin[(c["topic"], c["offset"])]
                self.assertEqual(m.key(), c["key"])
                self.assertEqual(m.value(), c["value"])
                hdrs = headers_of(m)
                n = len(c["headers"])
                # The record's own headers first, unchanged and in order,
                # then the dead-letter headers.
                self.assertEqual(hdrs[:n], c["headers"])
                added = dict(hdrs[n:])
                self.assertEqual(len(added), len(hdrs) - n)
                self.assertTrue(set(added) <= set(DLQ_HEADERS), added)
                self.assertEqual(added["alertbridge.error.code"],
                                 c["code"].encode())
                self.assertTrue(added["alertbridge.error.message"].strip())
                self.assertEqual(added["alertbridge.source.topic"],
                                 c["topic"].encode())
                self.assertEqual(added["alertbridge.source.partition"],
                                 str(c["partition"]).encode())
                self.assertEqual(added["alertbridge.source.offset"],
                                 str(c["offset"]).encode())
                if c["integration"] is None:
                    self.assertNotIn("alertbridge.integration", added)
                else:
                    self.assertEqual(added["alertbridge.integration"],
                                     c["integration"].encode())
        msg = header(by_origin[(unbound, 0)], "alertbridge.error.message")
        self.assertIn(unbound.encode(), msg)
        msg = header(by_origin[(gen, 1)], "alertbridge.error.message")
        self.assertIn(b"no-such-integration", msg)


class OversizeDeadLetter(PipelineTest):
    def test_changelog_loop(self):
        self.reduced("changelog")

    def test_memory_loop(self):
        self.reduced("memory")

    def reduced(self, store):
        """An undecodable record of 1,040,044 bytes and a 1 MB comment on
        the actions topic: their dead letters exceed the producer's
        1,000,000-byte default, so they are written reduced and counted,
        and the pipeline goes on (it used to exit 1 on every start)."""
        am, actions, out, dlq = self.create_topics("am", "actions", "out",
                                                   "dlq")
        big = Producer({"logger": CLIENT_LOG,
                        "bootstrap.servers": self.brokers,
                        "message.max.bytes": 1048576})
        undecodable = b'{"alerts": [' + b"x" * (1040044 - 12)
        comment = json.dumps({"action": "comment", "alert_id": "f" * 32,
                              "operator": "alice",
                              "comment": "c" * 1000000}).encode()
        for topic, value in ((am, undecodable), (actions, comment)):
            big.produce(topic, value=value, key=b"k")
        self.assertEqual(big.flush(WAIT), 0)
        ab = self.alertbridge(self.config(
            [{"topics": [am], "integration": "alertmanager"}], out, dlq,
            actions_topic=actions, state={"store": store})).start()
        self.produce(am, json.dumps({"alerts": [{
            "status": "firing", "labels": {"alertname": "still-alive"},
            "startsAt": "2026-01-01T00:00:00Z"}]}).encode())
        out_r = TopicReader(self, out)
        dlq_r = TopicReader(self, dlq)
        out_r.wait_count(1)
        dlq_r.wait_count(2)
        self.wait_for(
            lambda: ab.metrics().get("alertbridge_dlq_reduced_total") == 2,
            "dlq_reduced_total = 2")
        self.stop_ok(ab)
        self.assertIn("still-alive", out_r.messages[0].value().decode())
        for m in dlq_r.messages:
            original = undecodable if \
                header(m, "alertbridge.source.topic").decode() == am \
                else comment
            self.assertEqual(header(m, "alertbridge.truncated"), b"true")
            self.assertEqual(int(header(m, "alertbridge.original.size")),
                             len(original))
            self.assertEqual(header(m, "alertbridge.original.sha256"),
                             hashlib.sha256(original).hexdigest().encode())
            self.assertTrue(original.startswith(m.value()))
            self.assertGreater(len(m.value()), 900000)
            self.assertEqual(m.key(), b"k")


class IntegrationHeader(PipelineTest):
    def test_header_wins_over_topic_binding(self):
        gen, net, out, dlq = self.create_topics("gen", "net", "out", "dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [gen], "integration": "generic"},
             {"topics": [net], "integration": os.path.join(
                 REPO, "examples", "integrations", "network-monitor.yaml")}],
            out, dlq, integration_header="x-integration")).start()
        # A built-in named by the header, on a topic bound to generic.
        self.produce(gen, demo_payload("alertmanager.3.json"),
                     headers=[("x-integration", b"alertmanager")])
        # A configured custom integration named by its `name:`.
        self.produce(gen, demo_payload("network.2.json"),
                     headers=[("x-integration", b"network-monitor")])
        # The default header name is not the configured one: ignored.
        self.produce(gen, generic_alert("topic-binding"),
                     headers=[(INTEGRATION_HEADER, b"alertmanager")])
        # The header also overrides a custom binding.
        self.produce(net, generic_alert("generic-on-net"),
                     headers=[("x-integration", b"generic")])
        reader = TopicReader(self, out)
        reader.wait_count(4)
        self.stop_ok(ab)
        reader.pump(1.0)
        self.assertEqual(len(reader.messages), 4)
        events = {alert_of(e)["labels"]["alertname"]: e for e in
                  (self.assert_event(m) for m in reader.messages)}
        self.assertEqual(sorted(events), [
            "ContainerMemoryAbove80", "generic-on-net",
            "network_package errors > 5%", "topic-binding"])
        arms = events["ContainerMemoryAbove80"]
        self.assertEqual(arms["integration"], "alertmanager")
        # _aliyun_arms_alert_level ERROR wins over severity: warning.
        self.assertEqual(arms["data"]["data"]["level"], "P2")
        self.assertEqual(events["network_package errors > 5%"]["integration"],
                         "network-monitor")
        self.assertEqual(events["topic-binding"]["integration"], "generic")
        self.assertEqual(events["generic-on-net"]["integration"], "generic")
        self.assertEqual(TopicReader(self, dlq).pump(1.0), 0)


class BrokerRestart(PipelineTest):
    """A broker restart in the middle of a stream loses no record."""

    def broker_dir(self):
        run_dir = os.environ.get("AB_KAFKA_DIR",
                                 os.path.join(REPO, "build", "kafka-broker"))
        env = os.path.join(run_dir, "env")
        self.assertTrue(os.path.exists(env),
                        "%s missing: set AB_KAFKA_DIR to the run dir of the "
                        "broker in AB_KAFKA_BROKERS" % env)
        with open(env, encoding="utf-8") as f:
            self.assertIn("AB_KAFKA_BROKERS=%s\n" % self.brokers, f.read(),
                          "%s is not the broker in AB_KAFKA_BROKERS" % env)
        return run_dir

    def test_restart_mid_stream_loses_nothing(self):
        run_dir = self.broker_dir()
        inp, out, dlq = self.create_topics("in", "out", "dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [inp], "integration": "generic"}], out, dlq)).start()
        reader = TopicReader(self, out)
        stream = Stream(self, inp, "r").start()
        reader.wait_count(50, "events flowing before the restart")
        before = stream.produced
        restart = subprocess.run(
            [os.path.join(REPO, "scripts", "kafka-broker.sh"), "restart"],
            env=dict(os.environ, AB_KAFKA_DIR=run_dir),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=300)
        self.assertEqual(restart.returncode, 0, restart.stdout)
        during = stream.produced - before
        self.assertGreater(during, 0, "nothing produced during the restart")
        stream.wait_more(100, "100 records produced after the restart")
        delivered = stream.finish()
        self.wait_for(lambda: reader.pump() >= 0 and
                      set(sources(reader)) >= delivered,
                      "an event for each of %d inputs" % len(delivered))
        self.stop_ok(ab)
        for m in reader.messages:
            ev = self.assert_event(m)
            self.assertEqual(ev["type"], "aliyun:arms:alarm:create")
        counts = sources(reader)
        self.assertEqual(set(counts), delivered)
        print("\nbroker restart: %d inputs (%d before it, %d during), "
              "%d duplicate events" % (len(delivered), before, during,
                                       sum(counts.values()) - len(counts)),
              file=sys.stderr)
        self.assertEqual(self.admin_end_offset(dlq), 0)

    def admin_end_offset(self, topic):
        c = Consumer({"logger": CLIENT_LOG,
                      "bootstrap.servers": self.brokers,
                      "group.id": "wm-" + uuid.uuid4().hex})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0),
                                           timeout=WAIT)[1]
        finally:
            c.close()


class GracefulShutdown(PipelineTest):
    PARTITIONS = 3

    def committed(self, topic, group):
        c = Consumer({"logger": CLIENT_LOG,
                      "bootstrap.servers": self.brokers, "group.id": group,
                      "enable.auto.commit": False})
        try:
            tps = c.committed([TopicPartition(topic, p)
                               for p in range(self.PARTITIONS)],
                              timeout=WAIT)
            ends = [c.get_watermark_offsets(TopicPartition(topic, p),
                                            timeout=WAIT)[1]
                    for p in range(self.PARTITIONS)]
            # No commit yet reads as OFFSET_INVALID (-1001): nothing done.
            return [max(tp.offset, 0) for tp in tps], ends
        finally:
            c.close()

    def produce_alerts(self, topic, names):
        """One distinct alert per name, spread over the partitions;
        returns {name: (partition, offset)}."""
        where = {}
        for i, name in enumerate(names):
            where[name] = self.produce(topic, generic_alert(name, source=name),
                                       partition=i % self.PARTITIONS)
        return where

    def source_list(self, reader):
        """labels.source of each event read, in arrival order."""
        return [alert_of(json.loads(m.value()))["labels"]["source"]
                for m in reader.messages]

    def check_restart_adds_nothing(self, ab, inp, reader, expected):
        """Start `ab` again: one new alert per partition comes out, and no
        old input is replayed (each partition's marker is consumed after
        any replayed record of it, and the output topic keeps that order)."""
        ab.start()
        markers = ["marker-%d" % p for p in range(self.PARTITIONS)]
        self.produce_alerts(inp, markers)
        reader.wait_count(expected + len(markers))
        self.stop_ok(ab)
        reader.pump(1.0)
        got = self.source_list(reader)
        self.assertEqual(sorted(got[expected:]), markers, got[expected:])
        self.assertEqual(len(got), expected + len(markers))

    def test_sigterm_after_processing_commits_the_end(self):
        inp, out, dlq = self.create_topics("in", "out", "dlq",
                                           partitions=self.PARTITIONS)
        ab = self.alertbridge(self.config(
            [{"topics": [inp], "integration": "generic"}], out, dlq,
            # No auto commit: the offsets must come from the shutdown.
            kafka={"consumer_properties": {
                "auto.commit.interval.ms": "600000"}})).start()
        names = ["a%03d" % i for i in range(60)]
        self.produce_alerts(inp, names)
        reader = TopicReader(self, out)
        reader.wait_count(len(names))
        self.stop_ok(ab, signal.SIGTERM)
        self.assertIn("stopping: draining in-flight records", ab.log())
        committed, ends = self.committed(inp, self.group())
        self.assertEqual(committed, ends)
        self.assertEqual(sum(ends), len(names))
        reader.pump(1.0)
        self.assertEqual(sorted(self.source_list(reader)), names)
        self.check_restart_adds_nothing(ab, inp, reader, len(names))

    def test_sigint_mid_stream_commits_only_delivered_work(self):
        inp, out, dlq = self.create_topics("in", "out", "dlq",
                                           partitions=self.PARTITIONS)
        names = ["m%04d" % i for i in range(600)]
        where = self.produce_alerts(inp, names)
        # One record in flight at a time makes the first run slow (a few
        # records a second), so the signal surely lands mid-stream.
        ab = self.alertbridge(self.config(
            [{"topics": [inp], "integration": "generic"}], out, dlq,
            kafka={"max_pending_records": 1, "consumer_properties": {
                "auto.commit.interval.ms": "600000"}})).start()
        reader = TopicReader(self, out)
        reader.wait_count(10, "the first events")
        self.stop_ok(ab, signal.SIGINT)
        committed, ends = self.committed(inp, self.group())
        reader.pump(1.0)
        first_run = set(self.source_list(reader))
        print("\nSIGINT mid-stream: committed %s of %s, %d events" %
              (committed, ends, len(first_run)), file=sys.stderr)
        self.assertGreater(sum(committed), 0)
        self.assertLess(sum(committed), sum(ends))
        # Every record below a committed offset has its event.
        for name, (p, off) in where.items():
            if off < committed[p]:
                self.assertIn(name, first_run)
        # A restart completes the rest; records after the committed
        # offsets may be processed twice, none is lost.
        del ab.config["kafka"]["max_pending_records"]
        ab.start()
        reader.wait_count(len(names), "the remaining events")
        def all_done():
            reader.pump()
            return set(self.source_list(reader)) >= set(names)
        self.wait_for(all_done, "every input's event")
        self.stop_ok(ab)
        committed, ends = self.committed(inp, self.group())
        self.assertEqual(committed, ends)


class TransformThreads(PipelineTest):
    """transform.threads maps records on worker threads; the lifecycle
    still sees them in input order, so the events are exactly those of a
    pipeline without workers, ids included (ids count opened alerts, so
    any reordering would change them)."""

    def produce_stream(self, inp):
        """Opens, merges, recoveries and malformed records over 30 generic
        alerts and the two demo Alertmanager pushes, on one partition
        (the record header names the integration), then an end marker."""
        def send(integration, value):
            self.producer.produce(inp, value=value, headers=[
                ("alertbridge-integration", integration.encode())])
        for i in range(900):
            name = "t%02d" % (i * 7 % 30)
            status = "resolved" if i % 9 == 4 else "firing"
            value = generic_alert(name, source=name, status=status,
                                  message="push %d of %s" % (i, name))
            if i % 50 == 17:
                value = value[:len(value) // 2]  # cut short: a dead letter
            send("generic", value)
            if i % 3 == 0:
                send("alertmanager",
                     demo_payload("alertmanager.%d.json" % (1 + i // 3 % 2)))
        send("generic", generic_alert("end-marker"))
        self.assertEqual(self.producer.flush(WAIT), 0, "produce timed out")

    def run_with(self, threads, inp):
        """Run alertbridge with `threads` until the end marker came out;
        returns (events, dead letters) read, sorted."""
        tag = "threads%d" % threads
        out, dlq = self.create_topics(tag + "-out", tag + "-dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [inp]}], out, dlq, kafka={"group": self.group(tag)},
            transform={"threads": threads}), name=tag).start()
        events, dead = TopicReader(self, out), TopicReader(self, dlq)

        def ended():
            events.pump()
            return any(b'"end-marker"' in m.value() for m in events.messages)
        self.wait_for(ended, "%s: the end marker" % tag)
        self.stop_ok(ab)
        self.assertIn("transform_threads=%d" % threads, ab.log())
        events.pump(1.0)
        dead.pump(1.0)
        return (sorted(m.value() for m in events.messages),
                sorted(m.value() for m in dead.messages))

    def test_workers_give_the_events_of_the_consumer_thread(self):
        inp, = self.create_topics("in")
        self.produce_stream(inp)
        plain = self.run_with(0, inp)
        threaded = self.run_with(2, inp)
        self.assertEqual(len(plain[1]), 18)
        types = [json.loads(v)["type"] for v in plain[0]]
        self.assertGreater(types.count("aliyun:arms:alarm:create"), 60)
        self.assertGreater(types.count("aliyun:arms:alarm:close"), 60)
        self.assertEqual(len(threaded[0]), len(plain[0]))
        self.assertTrue(threaded == plain,
                        "the events differ with transform threads")


class Rebalance(PipelineTest):
    """Members joining and leaving: revoked partitions are committed after
    their in-flight outputs, so the next owner neither skips nor repeats."""

    PARTITIONS = 4

    def test_members_join_and_leave_mid_stream(self):
        inp, out, dlq = self.create_topics("in", "out", "dlq",
                                           partitions=self.PARTITIONS)
        inputs = [{"topics": [inp], "integration": "generic"}]
        a = self.alertbridge(self.config(inputs, out, dlq), "a").start()
        reader = TopicReader(self, out)
        stream = Stream(self, inp, "s").start()

        def assignments(ab):
            return ab.log().count('msg="partitions assigned"')

        reader.wait_count(50, "events flowing from a alone")
        b = self.alertbridge(self.config(inputs, out, dlq), "b").start()
        # b joins: a gives up its partitions and both get new ones.
        self.wait_for(lambda: assignments(b) >= 1 and assignments(a) >= 2,
                      "the rebalance after b joined")
        stream.wait_more(100, "100 records for a and b")
        self.stop_ok(a)  # a leaves: b takes every partition
        self.wait_for(lambda: assignments(b) >= 2,
                      "the rebalance after a left")
        stream.wait_more(100, "100 records for b alone")
        delivered = stream.finish()
        self.wait_for(lambda: reader.pump() >= 0 and
                      set(sources(reader)) >= delivered,
                      "an event for each of %d inputs" % len(delivered))
        self.stop_ok(b)
        reader.pump(1.0)
        for m in reader.messages:
            self.assert_event(m)
        counts = sources(reader)
        self.assertEqual(set(counts), delivered)
        twice = {k: v for k, v in counts.items() if v != 1}
        if not any("lost=true" in m.log() for m in (a, b)):
            # Every revocation committed what was done: nothing twice.
            self.assertEqual(twice, {})
        else:
            # librdkafka 2.0.2 declares the assignment lost when an offset
            # commit meets ILLEGAL_GENERATION mid-rebalance (librdkafka
            # #4059, fixed in 2.8.3); at-least-once then redoes the
            # uncommitted records, and a redone event must repeat the
            # original's id and type.
            print("\nassignment lost mid-rebalance: %d inputs repeated" %
                  len(twice), file=sys.stderr)
            seen = {}
            for m in reader.messages:
                ev = json.loads(m.value())
                src = alert_of(ev)["labels"]["source"]
                seen.setdefault(src, set()).add((ev["id"], ev["type"]))
            self.assertEqual({k: len(v) for k, v in seen.items()
                              if len(v) != 1}, {},
                             "repeated events that differ from the original")
        c = Consumer({"logger": CLIENT_LOG,
                      "bootstrap.servers": self.brokers,
                      "group.id": self.group(), "enable.auto.commit": False})
        try:
            tps = [TopicPartition(inp, p) for p in range(self.PARTITIONS)]
            committed = [tp.offset for tp in c.committed(tps, timeout=WAIT)]
            ends = [c.get_watermark_offsets(tp, timeout=WAIT)[1]
                    for tp in tps]
        finally:
            c.close()
        self.assertEqual(committed, ends)
        for ab in (a, b):
            done = re.findall(r'msg="stopped" records=(\d+)', ab.log())
            self.assertEqual(len(done), 1)
            self.assertGreater(int(done[0]), 0, ab.name + " did no work")


class Observability(PipelineTest):
    def test_metrics_health_and_readiness(self):
        gen, out, dlq = self.create_topics("gen", "out", "dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [gen], "integration": "generic"}], out, dlq))
        self.assertNotEqual(ab.port, 0)
        ab.start()
        ab.wait_ready()
        status, body = ab.http("/healthz")
        self.assertEqual((status, body.strip()), (200, "ok"))
        status, body = ab.http("/readyz")
        self.assertEqual((status, body.strip()), (200, "ready"))
        self.assertEqual(ab.http("/no-such-path")[0], 404)

        for name, sev in (("m1", "P1"), ("m2", "P2"), ("m3", "P3")):
            self.produce(gen, generic_alert(name, sev))
        self.produce(gen, generic_alert("m1", "P1"))  # a duplicate of m1
        self.produce(gen, b"{broken")
        self.produce(gen, b'{"severity": "P1"}')
        reader = TopicReader(self, out)
        dlq_r = TopicReader(self, dlq)
        reader.wait_count(3)
        dlq_r.wait_count(2)

        def metric(series):
            return ab.metrics().get(series)
        self.wait_for(lambda: metric('alertbridge_records_in_total'
                                     '{integration="generic"}') == 6,
                      "records_in_total = 6")
        self.wait_for(lambda: metric("alertbridge_consumer_lag") == 0,
                      "consumer_lag = 0")
        self.wait_for(
            lambda: metric("alertbridge_record_latency_seconds_count") == 6,
            "6 records acknowledged")
        m = ab.metrics()
        expect = {
            'alertbridge_records_in_total{integration="generic"}': 6,
            'alertbridge_records_in_total{integration="none"}': 0,
            'alertbridge_events_out_total'
            '{integration="generic",type="create"}': 3,
            'alertbridge_events_out_total'
            '{integration="generic",type="close"}': 0,
            'alertbridge_rejections_total'
            '{integration="generic",code="decode"}': 1,
            'alertbridge_rejections_total'
            '{integration="generic",code="no_alertname"}': 1,
            'alertbridge_rejections_total'
            '{integration="none",code="no_integration"}': 0,
            'alertbridge_dlq_records_total{integration="generic"}': 2,
            "alertbridge_merged_duplicates_total": 1,
            "alertbridge_open_alerts": 3,
            "alertbridge_delivery_errors_total": 0,
            "alertbridge_consumer_paused": 0,
            "alertbridge_record_latency_seconds_count": 6,
        }
        self.assertEqual({k: m.get(k) for k in expect}, expect)
        self.assertEqual(m['alertbridge_record_latency_seconds_bucket'
                           '{le="+Inf"}'], 6)
        status, text = ab.http("/metrics")
        self.assertIn("# TYPE alertbridge_records_in_total counter", text)
        self.assertIn("# TYPE alertbridge_record_latency_seconds histogram",
                      text)
        self.stop_ok(ab)
        self.assertEqual(len(reader.messages), 3)

    def test_taken_listen_address_fails_with_a_readable_error(self):
        gen, out, dlq = self.create_topics("gen", "out", "dlq")
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            ab = self.alertbridge(self.config(
                [{"topics": [gen], "integration": "generic"}], out, dlq,
                http={"listen": "127.0.0.1:%d" % port})).start()
            try:
                rc = ab.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.fail("still running on a taken port\n" + ab.tail())
        self.assertEqual(rc, 1, ab.tail())
        self.assertRegex(
            ab.log(), r'msg="cannot start the pipeline" error="http: cannot '
            r'listen on 127\.0\.0\.1:%d: [^"\\]*Address already in use"\n'
            % port)


class Backpressure(PipelineTest):
    def test_tiny_pending_limit_still_processes_everything(self):
        gen, out, dlq = self.create_topics("gen", "out", "dlq")
        # One record in flight at a time: consumption pauses after nearly
        # every record (each pause/resume cycle costs librdkafka a new
        # fetch, some 0.1-1 s, hence the modest count).
        ab = self.alertbridge(self.config(
            [{"topics": [gen], "integration": "generic"}], out, dlq,
            kafka={"max_pending_records": 1})).start()
        n = 50
        batch = Producer({"logger": CLIENT_LOG,
                          "bootstrap.servers": self.brokers,
                          "enable.idempotence": True})
        for i in range(n):
            batch.produce(gen, generic_alert("bp-%04d" % i,
                                             source="bp-%04d" % i))
        self.assertEqual(batch.flush(WAIT), 0)
        reader = TopicReader(self, out)
        reader.wait_count(n)
        self.assertIn("alertbridge_consumer_paused", ab.metrics())
        self.wait_for(lambda: ab.metrics()["alertbridge_consumer_paused"] == 0
                      and ab.total("alertbridge_records_in_total") == n,
                      "consumption resumed with every record in")
        self.stop_ok(ab)
        reader.pump(1.0)
        names = sorted(alert_of(json.loads(m.value()))["labels"]["source"]
                       for m in reader.messages)
        self.assertEqual(names, ["bp-%04d" % i for i in range(n)])
        log = ab.log()
        # With one record allowed in flight, consumption did pause.
        self.assertIn("paused consumption", log)
        self.assertIn("resumed consumption", log)


class BrokerDownShutdown(PipelineTest):
    """SIGTERM while the broker is down and outputs are in flight: the
    process exits within kafka.flush_timeout plus a small margin, with the
    documented "work left in flight" status and one summary line instead
    of one line per message. Uses a private broker (it is stopped)."""

    FLUSH_S = 4      # kafka.flush_timeout of these tests
    MARGIN_S = 4     # process teardown after the bounded shutdown
    EXIT_INFLIGHT = 75
    RECORDS = 300

    @classmethod
    def setUpClass(cls):
        cls.broker_dir = tempfile.mkdtemp(prefix="ab-broker-", dir=WORKDIR)
        cls.broker(["start"])

    @classmethod
    def tearDownClass(cls):
        cls.broker(["stop"])
        shutil.rmtree(cls.broker_dir, ignore_errors=True)

    @classmethod
    def broker(cls, args):
        env = dict(os.environ, AB_KAFKA_DIR=cls.broker_dir)
        r = subprocess.run([os.path.join(REPO, "scripts", "kafka-broker.sh")]
                           + args, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        if r.returncode != 0:
            raise AssertionError("kafka-broker.sh %s failed:\n%s" %
                                 (" ".join(args), r.stdout.decode()))
        m = re.search(rb"AB_KAFKA_BROKERS=(\S+)", r.stdout)
        if m:
            os.environ["AB_KAFKA_BROKERS_PRIVATE"] = m.group(1).decode()

    def setUp(self):
        # Each test stops the private broker: bring it back on its ports.
        if subprocess.run([os.path.join(REPO, "scripts", "kafka-broker.sh"),
                           "status"], env=dict(os.environ,
                                               AB_KAFKA_DIR=self.broker_dir),
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            self.broker(["restart"])
        self.__class__.brokers = os.environ["AB_KAFKA_BROKERS_PRIVATE"]
        self.__class__.admin = AdminClient({
            "logger": CLIENT_LOG, "bootstrap.servers": self.brokers})
        super().setUp()

    def delete_topics(self, topics):
        pass  # the private broker and its data go with the class

    def stop_with_broker_down(self, stateful):
        inp, out, dlq = self.create_topics("in", "out", "dlq")
        # A long linger keeps the outputs queued in the producer, so they
        # are in flight when the broker goes away.
        cfg = self.config(
            [{"topics": [inp], "integration": "generic"}], out, dlq,
            kafka={"flush_timeout": "%ds" % self.FLUSH_S,
                   "producer_properties": {"linger.ms": "120000"},
                   "consumer_properties": {
                       "auto.commit.interval.ms": "600000"}})
        if stateful:
            cfg["processing"] = {"guarantee": "at_least_once",
                                 "commit_interval": "10m"}
            cfg["state"] = {"store": "changelog"}
        else:
            cfg["state"] = {"store": "memory"}
        ab = self.alertbridge(cfg).start()
        ab.wait_ready()
        batch = Producer({"logger": CLIENT_LOG,
                          "bootstrap.servers": self.brokers,
                          "enable.idempotence": True})
        for i in range(self.RECORDS):
            batch.produce(inp, generic_alert("down-%04d" % i))
        self.assertEqual(batch.flush(WAIT), 0)
        self.wait_for(lambda: ab.total("alertbridge_records_in_total") >=
                      self.RECORDS, "every record consumed")
        self.broker(["stop"])
        start = time.monotonic()
        ab.stopping = True
        ab.proc.send_signal(signal.SIGTERM)
        try:
            rc = ab.proc.wait(self.FLUSH_S + self.MARGIN_S + 60)
        except subprocess.TimeoutExpired:
            self.fail("no exit after SIGTERM\n" + ab.tail())
        took = time.monotonic() - start
        ab.logf.close()
        log = ab.log()
        print("\nbroker down, SIGTERM: exit %d after %.1fs" % (rc, took),
              file=sys.stderr)
        self.assertLessEqual(took, self.FLUSH_S + self.MARGIN_S,
                             "shutdown ignored kafka.flush_timeout\n" +
                             ab.tail())
        self.assertEqual(rc, self.EXIT_INFLIGHT, ab.tail())
        about = [l for l in log.splitlines()
                 if re.search(r"in.flight|delivery failed|purg", l)]
        self.assertLessEqual(len(about), 3,
                             "%d lines about in-flight work:\n%s" %
                             (len(about), "\n".join(about[:10])))
        self.assertTrue(any("consumed again" in l for l in about), about)
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            self.assertNotIn(mark, log, "sanitizer report\n" + ab.tail())

    def test_memory_loop(self):
        self.stop_with_broker_down(stateful=False)

    def test_stateful_loop(self):
        self.stop_with_broker_down(stateful=True)



def main(prog="test_pipeline"):
    """Runs the tests of the `__main__` module (this one, or a module that
    imports this one's helpers, named `prog` in messages)."""
    global ALERTBRIDGE, WORKDIR
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--alertbridge",
                    default=os.environ.get("AB_ALERTBRIDGE"))
    ap.add_argument("--workdir")
    args, rest = ap.parse_known_args()
    if not args.alertbridge or not os.access(args.alertbridge, os.X_OK):
        print("%s: --alertbridge BIN (or AB_ALERTBRIDGE) must "
              "name the built binary" % prog, file=sys.stderr)
        return 2
    ALERTBRIDGE = os.path.abspath(args.alertbridge)
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        WORKDIR = args.workdir
    else:
        WORKDIR = tempfile.mkdtemp(prefix="ab-it-")
    handler = logging.FileHandler(os.path.join(WORKDIR, "clients.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    CLIENT_LOG.addHandler(handler)
    CLIENT_LOG.setLevel(logging.INFO)
    CLIENT_LOG.propagate = False
    print("%s: logs in %s" % (prog, WORKDIR), file=sys.stderr)
    run = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    return 0 if run.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
