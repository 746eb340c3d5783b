#!/usr/bin/env python3
"""test_replay.py - `alertbridge replay` against a real Kafka broker.

Each test class fills its own topics (unique names) with known payloads and
explicit record timestamps using a real Kafka client
(python3-confluent-kafka), runs the real binary over ranges of them and
checks the NDJSON lines, the JSON summary, the comparison reports and the
exit statuses.

  test_replay.py --alertbridge BIN [--workdir DIR] [unittest args...]

The broker comes from AB_KAFKA_BROKERS (scripts/kafka-broker.sh start
prints it); without it every test FAILS, it never skips.
"""

import argparse
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

try:
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    print("test_replay: python3-confluent-kafka is not installed "
          "(scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "replay")
V1 = os.path.join(FIXTURES, "web-v1.yaml")
V2 = os.path.join(FIXTURES, "web-v2.yaml")
TIMEOUT = float(os.environ.get("AB_IT_TIMEOUT", "120"))

ALERTBRIDGE = None  # set by main()
WORKDIR = None      # set by main()

BASE_MS = 1714564800000  # 2024-05-01T12:00:00Z
MIN = 60000

# The web-monitor history every test replays: (minutes after BASE_MS,
# payload). None is a record without a value (a tombstone).
HISTORY = [
    (0, {"check": "http", "level": "warning", "host": "web1",
         "text": "slow"}),                                      # 0 create
    (1, {"check": "http", "level": "warning", "host": "web1",
         "text": "slow again"}),                                # 1 merge
    (2, {"check": "tls", "level": "critical", "host": "web2",
         "text": "expiring"}),                                  # 2 create
    (3, "}{ not json"),                                         # 3 decode
    (4, {"check": "http", "host": "web1", "state": "ok"}),      # 4 close
    (5, {"level": "warning", "host": "web3"}),                  # 5 no name
    (6, None),                                                  # 6 no value
    (40, {"check": "disk", "level": "info", "host": "web3",
          "text": "80%"}),            # 7 auto-clear of tls/web2, create
    (41, {"check": "disk", "level": "info", "host": "web3",
          "text": "85%"}),                                      # 8 merge
]


def brokers():
    value = os.environ.get("AB_KAFKA_BROKERS")
    if not value:
        raise AssertionError(
            "AB_KAFKA_BROKERS is not set: start a broker with "
            "`eval \"$(scripts/kafka-broker.sh start)\"` (or use "
            "tests/integration/run.sh)")
    return value


def unique(name):
    return "replay-%s-%s" % (name, uuid.uuid4().hex[:10])


def encode(payload):
    if payload is None:
        return None
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload, sort_keys=True).encode()


def create_topic(topic, partitions=1):
    # The records are stamped in 2024: without this, time-based retention
    # could delete them between filling the topic and replaying it.
    admin = AdminClient({"bootstrap.servers": brokers()})
    topic = NewTopic(topic, partitions, 1, config={"retention.ms": "-1"})
    for future in admin.create_topics([topic]).values():
        future.result(timeout=TIMEOUT)


def fill(topic, records, partitions=1):
    """Create TOPIC and produce RECORDS: (partition, ms, payload) each."""
    create_topic(topic, partitions)
    append(topic, records)


def append(topic, records):
    """Produce RECORDS, (partition, ms, payload) each, to TOPIC."""
    producer = Producer({"bootstrap.servers": brokers(),
                         "enable.idempotence": True})
    failures = []

    def report(err, _msg):
        if err is not None:
            failures.append(err)

    for partition, ms, payload in records:
        producer.produce(topic, value=encode(payload), partition=partition,
                         timestamp=ms, on_delivery=report)
    left = producer.flush(TIMEOUT)
    if left or failures:
        raise AssertionError("producing to %s failed: %d left, %s"
                             % (topic, left, failures))


def fill_history(topic):
    fill(topic, [(0, BASE_MS + m * MIN, p) for m, p in HISTORY])


def rfc3339(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


class Run:
    """One finished `alertbridge replay`."""

    def __init__(self, args, with_brokers=True):
        fd, self.summary_path = tempfile.mkstemp(
            suffix=".json", prefix="summary-", dir=WORKDIR)
        os.close(fd)
        os.unlink(self.summary_path)
        cmd = [ALERTBRIDGE, "replay", "--summary-json", self.summary_path]
        if with_brokers:
            cmd += ["--brokers", brokers()]
        cmd += list(args)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.cmd = cmd
        self.status = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr.decode(errors="replace")
        self.summary = None
        if os.path.exists(self.summary_path):
            with open(self.summary_path) as f:
                self.summary = json.load(f)

    def describe(self):
        return "%s\nexit %d\nstderr:\n%s\nstdout:\n%s" % (
            " ".join(self.cmd), self.status, self.stderr,
            self.stdout.decode(errors="replace")[:4000])

    def lines(self):
        return [json.loads(line) for line in self.stdout.splitlines()]


class ReplayCase(unittest.TestCase):
    def replay(self, *args, status=0):
        run = Run(args)
        self.assertEqual(run.status, status, run.describe())
        # Under AB_SANITIZE a report may exit 1, like a difference does.
        for needle in ("Sanitizer", "runtime error:"):
            self.assertNotIn(needle, run.stderr, run.describe())
        return run

    def positions(self, lines):
        return [(l["partition"], l["offset"], l["index"],
                 l["event"]["type"].rsplit(":", 1)[1] if "event" in l
                 else "error:" + l["error"]["code"]) for l in lines]


class ByOffsetAndTime(ReplayCase):
    """Ranges given as offsets and as times select the same records."""

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("range")
        fill_history(cls.topic)

    def test_whole_topic(self):
        run = self.replay("--topic", self.topic, "--integration", V2)
        self.assertEqual(self.positions(run.lines()), [
            (0, 0, 0, "create"),        # http/web1
            (0, 2, 0, "create"),        # tls/web2
            (0, 3, 0, "error:decode"),
            (0, 4, 0, "close"),         # http/web1 recovered
            (0, 5, 0, "create"),        # unknown-check/web3
            (0, 6, 0, "error:decode"),
            (0, 7, 0, "close"),         # tls/web2 auto-cleared
            (0, 7, 1, "close"),         # unknown-check/web3 auto-cleared
            (0, 7, 2, "create"),        # disk/web3
        ])
        s = run.summary
        self.assertTrue(s["complete"])
        self.assertEqual(s["records"], 9)
        self.assertEqual(s["alerts"], 7)
        self.assertEqual(s["events"], {"create": 4, "claim": 0, "comment": 0,
                                       "close": 3, "total": 7})
        self.assertEqual(s["partitions"], [{
            "partition": 0, "start": 0, "end": 9, "low": 0, "high": 9,
            "records": 9}])
        lc = s["lifecycle"]
        self.assertEqual((lc["opened"], lc["merged"], lc["closed_recovered"],
                          lc["closed_auto"], lc["open_at_end"]),
                         (4, 2, 1, 2, 1))
        # Event time: the auto-clear closes are due 10 minutes after each
        # alert's last record; the 40th minute's record closes them at
        # those deadlines, whenever the replay runs.
        lines = run.lines()
        self.assertEqual(lines[6]["event"]["time"],
                         "2024-05-01T12:12:00.000Z")
        self.assertEqual(lines[7]["event"]["time"],
                         "2024-05-01T12:15:00.000Z")
        self.assertEqual(lines[3]["event"]["alertcount"], 2)
        report = s["dedup_report"]
        self.assertEqual(report["inputs"], "offsets")
        self.assertIn("dedup report: 7 alerts from 7 inputs in 4 groups, "
                      "7 events", report["text"])
        self.assertIn("inputs (3): 0, 1, 4\n  events (2): create, close",
                      report["text"])

    def test_by_offset(self):
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--from", "2", "--to", "5")
        # The recovery at offset 4 finds nothing open: its alert opened at
        # offset 0, before the range.
        self.assertEqual(self.positions(run.lines()), [
            (0, 2, 0, "create"), (0, 3, 0, "error:decode")])
        self.assertEqual(run.summary["records"], 3)
        self.assertEqual(run.summary["lifecycle"]["orphan_recoveries"], 1)
        self.assertEqual(run.summary["partitions"][0]["start"], 2)
        self.assertEqual(run.summary["partitions"][0]["end"], 5)

    def test_by_time(self):
        by_offset = self.replay("--topic", self.topic, "--integration", V2,
                                "--from", "2", "--to", "8")
        by_time = self.replay("--topic", self.topic, "--integration", V2,
                              "--from", rfc3339(BASE_MS + 2 * MIN),
                              "--to", "@%d" % (BASE_MS + 41 * MIN))
        self.assertEqual(by_time.stdout, by_offset.stdout)
        self.assertEqual(by_time.summary["partitions"][0]["start"], 2)
        self.assertEqual(by_time.summary["partitions"][0]["end"], 8)
        # A time between records starts at the next one; a time after the
        # last record ends the range at the end of the log.
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--from", rfc3339(BASE_MS + 2 * MIN + 1),
                          "--to", "@%d" % (BASE_MS + 99 * MIN))
        self.assertEqual(run.summary["partitions"][0]["start"], 3)
        self.assertEqual(run.summary["partitions"][0]["end"], 9)

    def test_config(self):
        # Policies, the CloudEvents source and lifecycle options come from
        # a pipeline config; its inputs are not used, and the brokers come
        # from it when --brokers is not given.
        path = os.path.join(WORKDIR, "config-%s.yaml" % self.topic)
        with open(path, "w") as f:
            f.write("kafka: {brokers: \"${AB_KAFKA_BROKERS}\"}\n"
                    "inputs: [{topics: [not-replayed]}]\n"
                    "output:\n"
                    "  topic: unused.events\n"
                    "  source: replay-test\n"
                    "  policies:\n"
                    "    - {name: urgent, owner: oncall, "
                    "when: {severity: [P1]}}\n"
                    "dead_letter_topic: unused.dlq\n"
                    "lifecycle: {close_orphan_recovery: true}\n")
        run = Run(["--config", path, "--topic", self.topic,
                   "--integration", V2, "--from", "2", "--to", "5"],
                  with_brokers=False)
        self.assertEqual(run.status, 0, run.describe())
        events = [l["event"] for l in run.lines() if "event" in l]
        self.assertEqual([(e["source"], e["data"]["owner"],
                           e["data"]["data"]["dispatchRuleName"])
                          for e in events],
                         [("replay-test", "oncall", "urgent"),
                          ("replay-test", "", "")])
        # The orphan recovery at offset 4 now closes.
        self.assertEqual(events[1]["type"], "aliyun:arms:alarm:close")

    def test_empty_range(self):
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--from", "latest")
        self.assertEqual(run.stdout, b"")
        self.assertEqual(run.summary["records"], 0)
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--from", "5", "--to", "5")
        self.assertEqual(run.summary["records"], 0)

    def test_records_appended_later_are_not_read(self):
        topic = unique("latest")
        fill_history(topic)
        before = self.replay("--topic", topic, "--integration", V2)
        append(topic, [(0, BASE_MS + 50 * MIN,
                      {"check": "late", "level": "warning", "host": "x"})])
        after = self.replay("--topic", topic, "--integration", V2,
                            "--to", "9")
        self.assertEqual(after.stdout, before.stdout)
        whole = self.replay("--topic", topic, "--integration", V2)
        self.assertEqual(whole.summary["records"], 10)


class Determinism(ReplayCase):
    """The same range gives the same bytes, also across partitions."""

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("single")
        fill_history(cls.topic)
        # Three partitions; the firing and recovery of one alert land in
        # different partitions, and partition 2's producer clock steps
        # back once.
        cls.multi = unique("multi")
        fill(cls.multi, [
            (0, BASE_MS + 0 * MIN, {"check": "a", "level": "warning",
                                    "host": "h1"}),
            (1, BASE_MS + 1 * MIN, {"check": "a", "level": "warning",
                                    "host": "h1"}),
            (2, BASE_MS + 2 * MIN, {"check": "b", "level": "critical",
                                    "host": "h2"}),
            (1, BASE_MS + 3 * MIN, {"check": "a", "host": "h1",
                                    "state": "ok"}),
            (2, BASE_MS + 1 * MIN, {"check": "c", "level": "warning",
                                    "host": "h3"}),
            (0, BASE_MS + 4 * MIN, {"check": "b", "host": "h2",
                                    "state": "ok"}),
        ], partitions=3)

    def test_twice_identical(self):
        first = self.replay("--topic", self.topic, "--integration", V2)
        second = self.replay("--topic", self.topic, "--integration", V2)
        self.assertGreater(len(first.stdout), 0)
        self.assertEqual(first.stdout, second.stdout)

    def test_partitions_merged_by_time(self):
        first = self.replay("--topic", self.multi, "--integration", V2)
        for _ in range(2):
            again = self.replay("--topic", self.multi, "--integration", V2)
            self.assertEqual(again.stdout, first.stdout)
        lines = first.lines()
        # Order: by (ts raised to the partition's latest, partition,
        # offset). Partition 2's second record (ts 1 min) is ordered at
        # 2 min, after its first record.
        self.assertEqual(
            [(l["partition"], l["offset"], l["ts"]) for l in lines],
            [(0, 0, BASE_MS), (2, 0, BASE_MS + 2 * MIN),
             (2, 1, BASE_MS + 2 * MIN), (1, 1, BASE_MS + 3 * MIN),
             (0, 1, BASE_MS + 4 * MIN)])
        kinds = [l["event"]["type"].rsplit(":", 1)[1] for l in lines]
        self.assertEqual(kinds, ["create", "create", "create", "close",
                                 "close"])
        # The merge across partitions happened: a's close counts both
        # firings (partitions 0 and 1).
        self.assertEqual(lines[3]["event"]["alertcount"], 2)
        self.assertEqual(first.summary["records"], 6)
        self.assertEqual(first.summary["lifecycle"]["merged"], 1)
        self.assertEqual(first.summary["dedup_report"]["inputs"], "records")
        one = self.replay("--topic", self.multi, "--integration", V2,
                          "--partition", "2")
        self.assertEqual([(l["partition"], l["offset"])
                          for l in one.lines()], [(2, 0), (2, 1)])

    def test_no_consumer_group(self):
        # Any group that appeared meanwhile (other clients may share the
        # broker) must hold no offset of this topic: the replay joined no
        # group and committed nothing.
        admin = AdminClient({"bootstrap.servers": brokers()})
        before = {g.id for g in admin.list_groups(timeout=TIMEOUT)}
        self.replay("--topic", self.topic, "--integration", V2)
        after = {g.id for g in admin.list_groups(timeout=TIMEOUT)}
        self.assertFalse([g for g in after - before
                          if g == "alertbridge" or "replay" in g])
        for group in after - before:
            probe = Consumer({"bootstrap.servers": brokers(),
                              "group.id": group})
            [tp] = probe.committed([TopicPartition(self.topic, 0)],
                                   timeout=TIMEOUT)
            probe.close()
            self.assertLess(tp.offset, 0, "group %s committed %s"
                            % (group, tp))


class Golden(ReplayCase):
    """--expect: exit 0 on a match, 1 and a readable diff otherwise."""

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("golden")
        fill_history(cls.topic)

    def golden(self, args, name):
        path = os.path.join(WORKDIR, "%s-%s.ndjson" % (name, self.topic))
        self.replay("--topic", self.topic, "--output", path, *args)
        return path

    def test_match(self):
        path = self.golden(["--integration", V2], "v2")
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--expect", path)
        self.assertIn(b"no differences", run.stdout)
        d = run.summary["diff"]["result"]
        self.assertFalse(d["different"])
        self.assertEqual(d["events"]["same"], 7)
        self.assertEqual(d["rejections"]["same"], 2)

    def test_mapping_change_is_a_mismatch(self):
        path = self.golden(["--integration", V1], "v1")
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--expect", path, status=1)
        text = run.stdout.decode()
        self.assertIn("DIFFERENT", text)
        self.assertIn("partition 0 offset 0 (2024-05-01T12:00:00.000Z) "
                      "output 0: create event, alertname \"http\"", text)
        self.assertIn('data.data.level: "P3" -> "P2"', text)
        self.assertIn('data.data.alerts[0].labels.severity: "P3" -> "P2"',
                      text)
        # Offset 5 was rejected by v1 and becomes an event with v2.
        self.assertIn("removed (1, only in expected", text)
        self.assertIn("output 0: rejection no_alertname", text)
        self.assertIn("added (2, only in replay):\n  partition 0 offset 5 ",
                      text)
        d = run.summary["diff"]["result"]
        # Changed: http's severity. Added: unknown-check's create and
        # close. Ids depend only on the alert's own input, so the extra
        # alert v2 opens leaves disk's ids alone.
        self.assertEqual(d["events"], {"same": 4, "changed": 1, "added": 2,
                                       "removed": 0})
        self.assertNotIn("alertid", text)
        self.assertEqual(d["rejections"], {"same": 2, "changed": 0,
                                           "added": 0, "removed": 1})

    def test_edited_golden(self):
        path = self.golden(["--integration", V2], "edited")
        with open(path) as f:
            lines = f.readlines()
        # Drop the close of offset 4, change a message, keep the rest.
        kept = [l for l in lines if '"offset":4,' not in l]
        kept = [l.replace('"message":"slow"', '"message":"fast"')
                for l in kept]
        self.assertEqual(len(kept), len(lines) - 1)
        with open(path, "w") as f:
            f.writelines(kept)
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--expect", path, status=1)
        text = run.stdout.decode()
        self.assertIn('data.data.alerts[0].annotations.message: "fast" -> '
                      '"slow"', text)
        self.assertIn("added (1, only in replay):\n  partition 0 offset 4 "
                      "(2024-05-01T12:04:00.000Z) output 0: close event", text)

    def test_bad_golden_is_a_usage_error(self):
        path = os.path.join(WORKDIR, "bad-%s.ndjson" % self.topic)
        with open(path, "w") as f:
            f.write("this is not a replay file\n")
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--expect", path, status=2)
        self.assertIn(":1: ", run.stderr)
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--expect", path + ".missing", status=2)
        self.assertIn("cannot open", run.stderr)


class Compare(ReplayCase):
    """--compare runs both mappings over the range and reports changes."""

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("compare")
        fill_history(cls.topic)

    def test_compare(self):
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--compare", V1, status=1)
        text = run.stdout.decode()
        self.assertIn("old (web-monitor) vs new (web-monitor): DIFFERENT",
                      text)
        self.assertIn("events      4 same, 1 changed, 2 added, 0 removed",
                      text)
        self.assertIn("rejections  2 same, 0 changed, 0 added, 1 removed",
                      text)
        self.assertIn('data.data.level: "P3" -> "P2"', text)
        self.assertIn("output 0: create event, alertname \"unknown-check\"",
                      text)
        s = run.summary
        self.assertEqual(s["compare_events"]["total"], 5)
        self.assertEqual(s["events"]["total"], 7)
        self.assertEqual(s["compare_rejections"], 3)
        fields = {f["path"]: f["count"] for f in s["diff"]["result"]["fields"]}
        self.assertEqual(fields["data.data.level"], 1)
        # --compare writes no NDJSON unless asked to.
        self.assertNotIn(b'"partition"', run.stdout)

    def test_same_mapping_no_difference(self):
        run = self.replay("--topic", self.topic, "--integration", V2,
                          "--compare", V2)
        self.assertIn(b"no differences", run.stdout)


class Malformed(ReplayCase):
    """Malformed records are counted as rejections with their offsets."""

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("malformed")
        # decode x5 (offsets 1, 3, 5, 7, 9), no_alertname x2 (11, 13)
        bad = ["{", b"\xff\xfe", b"", None, '{"check": }', "[1, 2]",
               '{"level": "warning"}']
        records = []
        for i, payload in enumerate(bad):
            records.append((0, BASE_MS + 2 * i * MIN,
                            {"check": "ok%d" % i, "level": "warning",
                             "host": "h"}))
            records.append((0, BASE_MS + (2 * i + 1) * MIN, payload))
        fill(cls.topic, records)

    def test_rejections(self):
        run = self.replay("--topic", self.topic, "--integration", V1,
                          "--output", os.devnull)
        s = run.summary
        self.assertEqual(s["records"], 14)
        self.assertEqual(s["events"]["create"], 7)
        by_code = {r["code"]: r for r in s["rejections"]["by_code"]}
        self.assertEqual(s["rejections"]["total"], 7)
        decode = by_code["decode"]
        self.assertEqual(decode["count"], 5)
        self.assertEqual([f["offset"] for f in decode["first"]],
                         [1, 3, 5, 7, 9])
        self.assertEqual(by_code["no_alertname"]["first"],
                         [{"partition": 0, "offset": 11},
                          {"partition": 0, "offset": 13}])
        self.assertIn("{:<20} 5 at 0:1, 0:3, 0:5, 0:7, 0:9".format("decode"),
                      run.stderr)

    def test_rejections_are_lines(self):
        run = self.replay("--topic", self.topic, "--integration", V1,
                          "--from", "3", "--to", "4")
        [line] = run.lines()
        self.assertEqual(line["offset"], 3)
        self.assertEqual(line["error"]["code"], "decode")
        self.assertIn("message", line["error"])


class OutputTopic(ReplayCase):
    """--output-topic produces the events as CloudEvents, keyed by
    fingerprint."""

    def test_output_topic(self):
        topic = unique("source")
        out = unique("events")
        fill_history(topic)
        create_topic(out)
        run = self.replay("--topic", topic, "--integration", V2,
                          "--output-topic", out, "--output", os.devnull)
        self.assertEqual(run.summary["output_topic"],
                         {"produced": 7, "delivered": 7, "failed": 0})
        consumer = Consumer({"bootstrap.servers": brokers(),
                             "group.id": unique("check"),
                             "enable.auto.commit": False})
        consumer.assign([TopicPartition(out, 0, 0)])
        got = []
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 7 and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                got.append(msg)
        consumer.close()
        self.assertEqual(len(got), 7)
        events = [json.loads(m.value()) for m in got]
        self.assertEqual([m.key().decode() for m in got],
                         [e["data"]["data"]["alerts"][0]["fingerprint"]
                          for e in events])
        headers = dict(got[0].headers())
        self.assertEqual(headers["content-type"],
                         b"application/cloudevents+json; charset=UTF-8")
        self.assertEqual(run.summary["events"]["total"], 7)


class Errors(ReplayCase):
    """Usage and configuration errors exit 2; an unreachable cluster 3."""

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("errors")
        fill_history(cls.topic)

    def test_usage(self):
        r = self.replay("--topic", self.topic, "--integration", V2,
                        "--from", "1714564800000", status=2)
        self.assertIn("@1714564800000", r.stderr)
        self.replay("--topic", self.topic, status=2)
        self.replay("--topic", self.topic, "--integration", V2,
                    "--expect", "x", "--compare", V1, status=2)
        self.replay("--topic", self.topic, "--integration", V2,
                    "--compare", V1, "--output", "-", status=2)
        self.replay("--topic", self.topic, "--integration", V2,
                    "-X", "group.id=prod", status=2)
        # --output must not truncate the golden file it is compared with.
        golden = os.path.join(WORKDIR, "keep-%s.ndjson" % self.topic)
        self.replay("--topic", self.topic, "--integration", V2,
                    "--output", golden)
        with open(golden, "rb") as f:
            before = f.read()
        r = self.replay("--topic", self.topic, "--integration", V2,
                        "--expect", golden, "--output", golden, status=2)
        self.assertIn("overwrite", r.stderr)
        with open(golden, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_unknown_names(self):
        r = self.replay("--topic", unique("missing"), "--integration", V2,
                        status=2)
        self.assertIn("not_found", r.stderr)
        r = self.replay("--topic", self.topic, "--integration", V2,
                        "--partition", "7", status=2)
        self.assertIn("has no partition 7", r.stderr)
        r = self.replay("--topic", self.topic, "--integration",
                        "no-such-integration", status=2)
        self.assertIn("--integration", r.stderr)

    def test_unreachable(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        run = Run(["--topic", self.topic, "--integration", V2,
                   "--timeout", "2", "--brokers", "127.0.0.1:%d" % port])
        self.assertEqual(run.status, 3, run.describe())


class Interrupt(ReplayCase):
    """SIGTERM and SIGINT end a replay promptly with exit 3, wherever it
    waits: the cluster, the expect file."""

    BOUND = 5.0  # seconds from the signal to the exit
    BOUND_READ = 2.0  # the same, while reading the expect file

    @classmethod
    def setUpClass(cls):
        cls.topic = unique("interrupt")
        fill_history(cls.topic)

    def stop(self, proc, sig, bound=BOUND):
        """Send SIG to PROC; @returns (status, seconds to exit, stderr)."""
        sent = time.monotonic()
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=bound)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.fail("replay still running %.1f s after the signal"
                      % bound)
        return proc.returncode, time.monotonic() - sent, err.decode()

    def test_cluster_that_does_not_answer(self):
        # Before: the metadata lookup blocked for the whole --timeout.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [ALERTBRIDGE, "replay", "--topic", self.topic, "--integration",
             V2, "--timeout", "120", "--brokers", "127.0.0.1:%d" % port],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        status, took, err = self.stop(proc, signal.SIGTERM)
        self.assertEqual(status, 3, err)
        self.assertIn("interrupted", err)

    def expect_fd_pos(self, pid, path):
        """The offset of PID's open file PATH, or None."""
        fds = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(fds):
                if os.readlink(os.path.join(fds, fd)) == path:
                    with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                        for line in f:
                            if line.startswith("pos:"):
                                return int(line.split()[1])
        except OSError:
            return None
        return None

    def test_large_expect_file(self):
        # Before: the expect file was read on to the end of a long run of
        # lines whatever the signal said (here 1 GiB of blank lines, about
        # 4 s); the signal goes once the replay is inside them, and the
        # replay must stop within BOUND_READ.
        golden = os.path.join(WORKDIR, "int-%s.ndjson" % self.topic)
        self.replay("--topic", self.topic, "--integration", V2, "--output",
                    golden)
        path = os.path.join(WORKDIR, "int-big-%s.ndjson" % self.topic)
        size = 1 << 30
        with open(path, "wb") as f:
            with open(golden, "rb") as g:
                f.write(g.read())
            start = f.tell()
            chunk = b"\n" * (16 << 20)
            for _ in range(size // len(chunk)):
                f.write(chunk)
        proc = None
        try:
            proc = subprocess.Popen(
                [ALERTBRIDGE, "replay", "--brokers", brokers(), "--topic",
                 self.topic, "--integration", V2, "--expect", path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + TIMEOUT
            pos = None
            while time.monotonic() < deadline and proc.poll() is None:
                pos = self.expect_fd_pos(proc.pid, path)
                if pos is not None and pos > start + (1 << 20):
                    break
                time.sleep(0.01)
            self.assertIsNone(proc.poll(), "replay ended before the signal")
            status, took, err = self.stop(proc, signal.SIGINT,
                                          self.BOUND_READ)
            self.assertEqual(status, 3, err)
            self.assertIn("interrupted", err)
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.communicate()
            os.unlink(path)


def main():
    global ALERTBRIDGE, WORKDIR
    parser = argparse.ArgumentParser()
    parser.add_argument("--alertbridge", required=True)
    parser.add_argument("--workdir")
    args, rest = parser.parse_known_args()
    ALERTBRIDGE = os.path.abspath(args.alertbridge)
    WORKDIR = args.workdir or tempfile.mkdtemp(prefix="ab-replay-it-")
    os.makedirs(WORKDIR, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
