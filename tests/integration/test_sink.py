#!/usr/bin/env python3
"""test_sink.py - the EventBridge sink end to end: real Kafka, fake EventBridge.

Each test creates its own topics and consumer group, produces CloudEvents
(structured and binary Kafka binding) with a real Kafka client
(python3-confluent-kafka), runs the sink binary against
tests/support/fake_eventbridge.py on 127.0.0.1, and checks what the fake
accepted (by event id), what the sink committed, and what reached the
sink's dead-letter topic.

  test_sink.py --sink "BIN [ARGS...]" [--workdir DIR] [unittest args...]

BIN ARGS --config FILE must run the sink
(`alertbridge sink`). The broker comes from AB_KAFKA_BROKERS; without it
every test FAILS, it never skips. Waits are bounded polls of a condition
(AB_IT_TIMEOUT seconds, default 90); nothing sleeps to synchronize.
"""

import argparse
import hashlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

try:
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    print("test_sink: python3-confluent-kafka is not installed "
          "(scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FAKE = os.path.join(REPO, "tests", "support", "fake_eventbridge.py")
sys.path.insert(0, os.path.join(REPO, "tests", "support"))
import observability as obs  # noqa: E402
WAIT = float(os.environ.get("AB_IT_TIMEOUT", "90"))
POLL = 0.05
SINK = None     # set by main()
WORKDIR = None  # set by main()
STRUCTURED = b"application/cloudevents+json; charset=UTF-8"
AK, SECRET, BUS = "itAccessKeyId", "itSecret-0123456789", "it-bus"


def brokers():
    b = os.environ.get("AB_KAFKA_BROKERS")
    if not b:
        raise AssertionError("AB_KAFKA_BROKERS is not set: start the broker "
                             "with scripts/kafka-broker.sh start")
    return b


def wait_for(test, what, cond, on_fail=lambda: ""):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(POLL)
    test.fail("timed out waiting for %s\n%s" % (what, on_fail()))


def event(i, key, level="P1", kind="create", integration="alertmanager",
          pad=0):
    return {"specversion": "1.0", "id": "ev-%s-%05d" % (key, i),
            "source": "alertbridge", "type": "aliyun:arms:alarm:" + kind,
            "time": "2026-01-01T00:00:00.000Z",
            "datacontenttype": "application/json",
            "integration": integration,
            "data": {"owner": "ops", "pad": "x" * pad,
                     "data": {"status": "firing", "level": level,
                              "dispatchRuleName": "O&M team"}}}


class Fake:
    """fake_eventbridge.py as a subprocess."""

    def __init__(self, test, *args):
        d = tempfile.mkdtemp(dir=WORKDIR)
        port_file = os.path.join(d, "port")
        self.log = open(os.path.join(d, "fake.log"), "ab")
        self.proc = subprocess.Popen(
            [sys.executable, FAKE, "--port-file", port_file,
             "--access-key-id", AK, "--secret", SECRET, "--bus", BUS] +
            list(args), stdout=self.log, stderr=subprocess.STDOUT)
        test.addCleanup(self.stop)
        wait_for(test, "the fake to listen",
                 lambda: os.path.exists(port_file))
        with open(port_file) as f:
            self.port = int(f.read())
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def call(self, path, body=None):
        req = urllib.request.Request(
            self.endpoint + path, method="POST" if body is not None else "GET",
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def state(self):
        return self.call("/_control/state")

    def script(self, *actions):
        self.call("/_control/script", {"actions": list(actions)})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.log.close()


class Sink:
    """One sink process with its config file and log."""

    def __init__(self, test, fake, topics, dlq, group, **extra):
        self.test = test
        self.dir = tempfile.mkdtemp(dir=WORKDIR)
        cfg = {"kafka": {"brokers": brokers(), "group": group,
                         "topics": topics,
                         "properties": {"auto.commit.interval.ms": "200"}},
               "dead_letter_topic": dlq,
               "eventbridge": {
                   "endpoint": fake.endpoint, "bus": BUS,
                   "access_key_id_env": "IT_SINK_AK",
                   "access_key_secret_env": "IT_SINK_SECRET",
                   "retry": {"initial_backoff": "20ms",
                             "max_backoff": "200ms"},
                   "request_timeout": "2s"},
               "log_level": "info"}
        for k, v in extra.items():
            if isinstance(v, dict):
                cfg.setdefault(k, {}).update(v)
            else:
                cfg[k] = v
        self.config = os.path.join(self.dir, "sink.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.log_path = os.path.join(self.dir, "sink.log")
        self.proc = None

    def start(self, secret=SECRET):
        env = dict(os.environ, IT_SINK_AK=AK, IT_SINK_SECRET=secret)
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            SINK + ["--config", self.config], env=env,
            stdin=subprocess.DEVNULL, stdout=self.logf,
            stderr=subprocess.STDOUT)
        self.test.addCleanup(self.kill)
        return self

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(WAIT)
        self.logf.close()
        return rc

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.logf.close()

    def tail(self):
        with open(self.log_path, errors="replace") as f:
            return "---- sink log:\n" + "".join(f.readlines()[-30:])


class SinkTest(unittest.TestCase):
    PARTITIONS = 3

    def setUp(self):
        tag = uuid.uuid4().hex[:8]
        self.topic = "it.sink.events." + tag
        self.dlq = "it.sink.dlq." + tag
        self.group = "it-sink-" + tag
        admin = AdminClient({"bootstrap.servers": brokers()})
        fs = admin.create_topics([
            NewTopic(self.topic, self.PARTITIONS, 1),
            NewTopic(self.dlq, 1, 1)])
        for f in fs.values():
            f.result(30)
        self.produced = {}  # id -> (partition, offset)

    def produce(self, events, binary=False, max_bytes=1000000):
        """Produce events keyed by their alert key; record offsets."""
        p = Producer({"bootstrap.servers": brokers(), "acks": "all",
                      "enable.idempotence": True,
                      "message.max.bytes": max_bytes})

        def reporter(eid):
            def report(err, msg):
                self.assertIsNone(err)
                self.produced[eid] = (msg.partition(), msg.offset())
            return report

        for key, ev in events:
            report = reporter(ev["id"])
            if binary:
                hdrs = [("ce_" + k, str(v).encode()) for k, v in ev.items()
                        if k not in ("data", "datacontenttype")]
                hdrs.append(("content-type", b"application/json"))
                p.produce(self.topic, key=key.encode(),
                          value=json.dumps(ev["data"]).encode(),
                          headers=hdrs, on_delivery=report)
            else:
                p.produce(self.topic, key=key.encode(),
                          value=json.dumps(ev).encode(),
                          headers=[("content-type", STRUCTURED)],
                          on_delivery=report)
        self.assertEqual(p.flush(30), 0)

    def stream(self, n, keys=10, **kw):
        return [("alert-%d" % (i % keys),
                 event(i, "k%d" % (i % keys), **kw)) for i in range(n)]

    def committed(self):
        c = Consumer({"bootstrap.servers": brokers(), "group.id": self.group,
                      "enable.auto.commit": False})
        try:
            tps = c.committed([TopicPartition(self.topic, p)
                               for p in range(self.PARTITIONS)], timeout=10)
            return {tp.partition: tp.offset for tp in tps}
        finally:
            c.close()

    def all_committed(self):
        ends = {}
        for pid, off in self.produced.values():
            ends[pid] = max(ends.get(pid, 0), off + 1)
        got = self.committed()
        return all(got.get(p, -1) >= o for p, o in ends.items())

    def assert_commit_not_early(self, fake):
        """Committed offsets never pass an event the fake did not accept."""
        got = self.committed()
        accepted = fake.state()["events"]
        for eid, (pid, off) in self.produced.items():
            if got.get(pid, -1) > off:
                self.assertIn(eid, accepted,
                              "offset %d of partition %d committed before "
                              "EventBridge accepted %s" % (got[pid], pid,
                                                           eid))

    def assert_key_order(self, fake):
        last = {}
        for eid in fake.state()["order"]:
            key, n = eid.rsplit("-", 1)
            self.assertGreater(int(n), last.get(key, -1),
                               "events of %s out of order" % key)
            last[key] = int(n)

    def dlq_records(self, n):
        c = Consumer({"bootstrap.servers": brokers(),
                      "group.id": "reader-" + uuid.uuid4().hex,
                      "auto.offset.reset": "earliest"})
        c.subscribe([self.dlq])
        out = []
        deadline = time.monotonic() + WAIT
        while len(out) < n and time.monotonic() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                out.append(m)
        c.close()
        return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("alertbridge_" + name + " "):
                return float(line.split()[1])
    return None


class ExactlyOnce(SinkTest):
    def test_every_event_once_and_committed(self):
        fake = Fake(self)
        port = free_port()
        events = self.stream(150) + [("bin-%d" % i, event(i, "b%d" % i))
                                     for i in range(20)]
        self.produce(events[:150])
        self.produce(events[150:], binary=True)
        sink = Sink(self, fake, [self.topic], self.dlq, self.group,
                    http={"listen": "127.0.0.1:%d" % port}).start()
        # SIGHUP is ignored (docs/reloading.md): the sink goes on.
        wait_for(self, "a first event accepted",
                 lambda: len(fake.state()["events"]) > 0, sink.tail)
        sink.proc.send_signal(signal.SIGHUP)
        wait_for(self, "every event accepted",
                 lambda: len(fake.state()["events"]) == 170, sink.tail)
        wait_for(self, "offsets committed", self.all_committed, sink.tail)
        st = fake.state()
        self.assertEqual(set(st["events"]), set(self.produced))
        self.assertTrue(all(c == 1 for c in st["events"].values()))
        self.assert_key_order(fake)
        wait_for(self, "metrics to show every event",
                 lambda: metric(port, "sink_events_published_total") == 170)
        self.assertEqual(metric(port, "sink_batch_size_events_sum"), 170)
        self.assertGreater(metric(port, "sink_request_duration_seconds_count"),
                           0)
        self.assertEqual(metric(port, "sink_backlog_events"), 0)
        self.assertEqual(sink.stop(), 0)


class FailuresThenRecovery(SinkTest):
    def test_no_loss_no_early_commit(self):
        fake = Fake(self)
        fake.script({"kind": "status", "status": 503, "repeat": 25},
                     {"kind": "status", "status": 429,
                      "code": "TooManyRequests", "repeat": 5},
                     {"kind": "reset", "repeat": 3})
        self.produce(self.stream(100))
        sink = Sink(self, fake, [self.topic], self.dlq, self.group).start()

        def progressed():
            self.assert_commit_not_early(fake)
            return len(fake.state()["events"]) == 100
        wait_for(self, "every event accepted after the failures", progressed,
                 sink.tail)
        wait_for(self, "offsets committed", self.all_committed, sink.tail)
        st = fake.state()
        self.assertGreaterEqual(st["errors"].get("Scripted", 0), 25)
        self.assertTrue(all(c == 1 for c in st["events"].values()))
        self.assert_key_order(fake)
        self.assertEqual(sink.stop(), 0)


class PartialFailures(SinkTest):
    def test_failed_entries_retried(self):
        fake = Fake(self)
        fake.script({"kind": "partial", "fail_first": 2, "repeat": 10,
                     "code": "InternalError"})
        self.produce(self.stream(80, keys=40))
        sink = Sink(self, fake, [self.topic], self.dlq, self.group).start()
        wait_for(self, "every event accepted",
                 lambda: len(fake.state()["events"]) == 80, sink.tail)
        wait_for(self, "offsets committed", self.all_committed, sink.tail)
        st = fake.state()
        self.assertTrue(all(c == 1 for c in st["events"].values()))
        partial = [r for r in st["requests"] if r["outcome"] == "partial"]
        self.assertEqual(len(partial), 10)
        self.assert_key_order(fake)
        self.assertEqual(sink.stop(), 0)


class KillAndRestart(SinkTest):
    # Events accepted before a kill -9 and sent again after the restart: at
    # most what was in flight plus what was accepted since the last commit.
    # The sink commits within 100 ms of an acceptance, and requests take
    # 0.2 s here, so that is a few PutEvents batches (16 events each).
    MAX_RESENT = 3 * 16

    def test_kill9_no_loss_dups_only_uncommitted(self):
        fake = Fake(self)
        fake.script({"kind": "slow", "seconds": 0.2, "repeat": 100000})
        self.produce(self.stream(400, keys=50))
        # A short session timeout, so the restarted member does not wait
        # 45 s for the killed one to leave the group. The commit interval
        # is the sink's default: the duplicate window below depends on it.
        props = {"properties": {"session.timeout.ms": "6000"}}
        sink = Sink(self, fake, [self.topic], self.dlq, self.group,
                    kafka=props, eventbridge={"max_in_flight": 1}).start()
        wait_for(self, "a third of the stream accepted",
                 lambda: len(fake.state()["events"]) >= 130, sink.tail)
        sink.stop(signal.SIGKILL)
        at_kill = self.committed()
        before = dict(fake.state()["events"])
        self.assertLess(len(before), 400, "the kill came too late")
        fake.call("/_control/reset", {})
        Sink(self, fake, [self.topic], self.dlq, self.group,
             kafka=props).start()
        wait_for(self, "the rest accepted after the restart",
                 lambda: set(before) | set(fake.state()["events"]) ==
                 set(self.produced))
        after = fake.state()["events"]
        for eid in set(before) & set(after):
            pid, off = self.produced[eid]
            self.assertGreaterEqual(
                off, at_kill.get(pid, -1),
                "%s was committed before the kill yet sent again" % eid)
        for eid, (pid, off) in self.produced.items():
            if off >= at_kill.get(pid, 0) and eid not in before:
                self.assertIn(eid, after)
        resent = len(set(before) & set(after))
        print("kill -9 duplicate window: %d of %d accepted events sent "
              "again" % (resent, len(before)), file=sys.stderr)
        self.assertLessEqual(resent, self.MAX_RESENT,
                             "the sink committed too rarely")
        wait_for(self, "offsets committed", self.all_committed)


class ShutdownDuringOutage(SinkTest):
    def test_sigterm_while_failing_commits_nothing_loses_nothing(self):
        fake = Fake(self)
        fake.script({"kind": "status", "status": 503, "repeat": 100000})
        self.produce(self.stream(30))
        sink = Sink(self, fake, [self.topic], self.dlq, self.group,
                    shutdown_timeout="1s").start()
        wait_for(self, "requests failing",
                 lambda: fake.state()["errors"].get("Scripted", 0) >= 3,
                 sink.tail)
        self.assertEqual(sink.stop(), 0, sink.tail())
        self.assertTrue(all(o < 0 for o in self.committed().values()))
        with open(sink.log_path, errors="replace") as f:
            log = f.read()
        self.assertIn("shutdown with events in flight", log)
        obs.check_log(self, log, "logfmt")
        fake.call("/_control/reset", {})
        sink = Sink(self, fake, [self.topic], self.dlq, self.group).start()
        wait_for(self, "every event accepted after the restart",
                 lambda: len(fake.state()["events"]) == 30, sink.tail)
        wait_for(self, "offsets committed", self.all_committed, sink.tail)
        self.assertEqual(sink.stop(), 0)


class Observability(SinkTest):
    def test_metrics_promtool_dashboard_and_json_logs(self):
        fake = Fake(self)
        port = free_port()
        self.produce(self.stream(20))
        sink = Sink(self, fake, [self.topic], self.dlq, self.group,
                    http={"listen": "127.0.0.1:%d" % port},
                    log_format="json").start()
        wait_for(self, "every event accepted",
                 lambda: len(fake.state()["events"]) == 20, sink.tail)
        wait_for(self, "every acceptance observed",
                 lambda: metric(port, "sink_event_latency_seconds_count") == 20,
                 sink.tail)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                    timeout=10) as r:
            text = r.read().decode()
        m = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
             for line in text.splitlines() if line and line[0] != "#"}
        self.assertEqual(m["alertbridge_sink_events_published_total"], 20)
        self.assertEqual(
            m["alertbridge_sink_end_to_end_latency_seconds_count"], 20)
        # Produced just now, accepted within seconds.
        self.assertEqual(m['alertbridge_sink_end_to_end_latency_seconds'
                           '_bucket{le="60"}'], 20)
        self.assertIn("process_resident_memory_bytes", m)
        self.assertTrue(any(k.startswith("alertbridge_build_info{")
                            for k in m))
        obs.promtool(self, text)
        obs.check_dashboard(self, obs.exported_names(text), sink=True)
        self.assertEqual(sink.stop(), 0)
        with open(sink.log_path, errors="replace") as f:
            obs.check_log(self, f.read(), "json")


class DeadLetters(SinkTest):
    def test_oversize_invalid_and_permanent(self):
        fake = Fake(self)
        fake.script({"kind": "partial", "fail_first": 1,
                     "code": "EventBusNotExist"})
        good = self.stream(5, keys=5)
        big = ("big", event(0, "big", pad=70000))
        self.produce(good[:1])
        self.produce([big, ("bad", {"id": "no-type-0"})] + good[1:])
        sink = Sink(self, fake, [self.topic], self.dlq, self.group,
                    on_permanent="dlq",
                    eventbridge={"permanent_entry_codes":
                                 ["EventBusNotExist"]}).start()
        msgs = self.dlq_records(3)
        self.assertEqual(len(msgs), 3, sink.tail())
        codes = sorted(dict(m.headers())["alertbridge.error.code"].decode()
                       for m in msgs)
        self.assertEqual(codes, ["decode", "permanent", "too_large"])
        for m in msgs:
            h = dict(m.headers())
            self.assertEqual(h["alertbridge.source.topic"].decode(),
                             self.topic)
            if h["alertbridge.error.code"] == b"too_large":
                self.assertEqual(json.loads(m.value())["id"], big[1]["id"])
        wait_for(self, "offsets committed", self.all_committed, sink.tail)
        self.assertEqual(len(fake.state()["events"]), 4)
        self.assertEqual(sink.stop(), 0)


class OversizeDeadLetter(SinkTest):
    def test_dead_letter_over_the_limit_is_reduced(self):
        """A 1,040,000-byte event (EventBridge: too large) whose dead-letter
        copy exceeds the producer's 1,000,000-byte default is written in
        reduced form; the sink goes on (it used to exit 1 on every start)."""
        fake = Fake(self)
        port = free_port()
        big = ("big", event(0, "big", pad=1040000))
        value = json.dumps(big[1]).encode()
        good = self.stream(5, keys=5)
        self.produce([big] + good, max_bytes=1048576)
        sink = Sink(self, fake, [self.topic], self.dlq, self.group,
                    http={"listen": "127.0.0.1:%d" % port}).start()
        msgs = self.dlq_records(1)
        self.assertEqual(len(msgs), 1, sink.tail())
        m = msgs[0]
        h = dict(m.headers())
        self.assertEqual(h["alertbridge.error.code"], b"too_large")
        self.assertEqual(h["alertbridge.truncated"], b"true")
        self.assertEqual(int(h["alertbridge.original.size"]), len(value))
        self.assertEqual(h["alertbridge.original.sha256"].decode(),
                         hashlib.sha256(value).hexdigest())
        self.assertEqual(h["alertbridge.source.topic"].decode(), self.topic)
        self.assertEqual(h["content-type"], STRUCTURED)
        self.assertEqual(m.key(), b"big")
        self.assertGreater(len(m.value()), 900000)
        self.assertTrue(value.startswith(m.value()))
        wait_for(self, "the other events accepted",
                 lambda: len(fake.state()["events"]) == 5, sink.tail)
        wait_for(self, "offsets committed", self.all_committed, sink.tail)
        self.assertEqual(metric(port, "sink_dlq_reduced_total"), 1)
        self.assertEqual(metric(port, "sink_dlq_records_total"), 1)
        self.assertEqual(sink.stop(), 0)


class PermanentStop(SinkTest):
    def test_bad_signature_stops_without_commit(self):
        fake = Fake(self)
        self.produce(self.stream(10))
        sink = Sink(self, fake, [self.topic], self.dlq, self.group)
        sink.start(secret="not-the-secret")
        rc = sink.proc.wait(WAIT)
        sink.logf.close()
        self.assertEqual(rc, 1, sink.tail())
        with open(sink.log_path) as f:
            log = f.read()
        self.assertIn("SignatureDoesNotMatch", log)
        self.assertNotIn("not-the-secret", log)
        self.assertEqual(fake.state()["events"], {})
        got = self.committed()
        self.assertTrue(all(o < 0 for o in got.values()), got)


def main():
    global SINK, WORKDIR
    p = argparse.ArgumentParser()
    p.add_argument("--sink", required=True)
    p.add_argument("--workdir")
    args, rest = p.parse_known_args()
    SINK = shlex.split(args.sink)
    WORKDIR = args.workdir or tempfile.mkdtemp(prefix="ab-sink-it-")
    os.makedirs(WORKDIR, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
