#!/usr/bin/env python3
"""test_stateful.py - alert state that survives restarts and scales out.

The "Done when" of issue 12 (docs/stateful-pipeline.md) on the real broker
with the real `alertbridge run`: Alertmanager notifications that are NOT
keyed, spread at random over 6 partitions as monitoring tools write them,
N alerts each firing 5 times and then resolved once, through a group of
members that is scaled out, killed, restarted. Whatever happens to the
members, exactly one create and one close come out per alert (counted by
alert id and by fingerprint), every claim by alert id is accepted, merged
duplicates make no event, nothing is dead-lettered; in exactly_once
(read committed) no event id repeats, in at_least_once a repeated event
is only ever a copy carrying the original's id.

  test_stateful.py --alertbridge BIN [--workdir DIR] [unittest args...]

Environment:
  AB_KAFKA_BROKERS     the broker; without it every test FAILS
  AB_STATEFUL_ALERTS   alerts per scenario (default 400)
  AB_STATEFUL_SEED     seed of the producer's partition choice (default 12)
  AB_STATEFUL_LEGACY=1 drop the stateful pipeline's configuration keys, to
                       run the scenarios against a binary that predates
                       them (the harness's own check: they then fail the
                       way issue 12's table shows)
  AB_IT_TIMEOUT        bound of every wait, in seconds (default 90)

Each scenario prints one line of counts (`stateful: ...`) to stderr. The
processes, readers and waits are test_pipeline.py's; waits are bounded
polls of a condition (the group's lag is zero and the outputs have not
moved for a while), never sleeps.
"""

import hashlib
import json
import os
import random
import re
import signal
import struct
import sys
import time

import xxhash

import test_pipeline as tp

try:
    import yaml
except ImportError:
    print("test_stateful: python3-yaml is not installed", file=sys.stderr)
    sys.exit(2)
from confluent_kafka import (Consumer, KafkaException, Producer,
                             TopicPartition)

ALERTS = int(os.environ.get("AB_STATEFUL_ALERTS", "400"))
SEED = int(os.environ.get("AB_STATEFUL_SEED", "12"))
LEGACY = os.environ.get("AB_STATEFUL_LEGACY") == "1"
WAIT = tp.WAIT

PARTITIONS = 6       # of the raw topic, and so of the internal topics
FIRINGS = 5          # firing notifications per alert before its recovery
GROUP = 4            # alerts per notification (one Alertmanager group)
CLAIM_EVERY = 7      # every 7th alert is claimed (300 of 2,000 in #12)
FIRING_SECONDS = 12  # a mid-stream disruption gets a stream this long
STABLE = 2.0         # the outputs are done when still this long at lag 0
SESSION_TIMEOUT_MS = 6000  # the broker's minimum: a dead member's
                           # partitions move after 6 s, not 45


# ------------------------------------------ the configuration, in one place


def blob_of(entry):
    """The blob of changelog entry `entry` (its checksum cut off): after
    the head and the integration name, fp, id, three times, count, seq,
    touch, the handler and the blob's length (docs/lifecycle.md)."""
    at = 5
    (n,) = struct.unpack_from("<I", entry, at)
    at += 4 + n + 16 + 16 + 8 * 3 + 8 + 4 + 8
    (hl,) = struct.unpack_from("<I", entry, at)
    at += 4 + (hl - 1 if hl else 0)
    (bl,) = struct.unpack_from("<I", entry, at)
    blob = entry[at + 4:at + 4 + bl]
    if len(blob) != bl or at + 4 + bl != len(entry):
        raise AssertionError("malformed changelog entry")
    return blob


def internal_topics(group):
    """The internal topics of a group: (alerts, changelog)."""
    return group + ".alerts", group + ".lifecycle-changelog"


def stateful(config, guarantee, instance_id):
    """Adds the stateful pipeline's keys (docs/stateful-pipeline.md,
    "Configuration") to a member's `config`; AB_STATEFUL_LEGACY=1 leaves
    them out."""
    if LEGACY:
        return config
    config["processing"] = {"guarantee": guarantee,
                            "commit_interval": "100ms"}
    config["state"] = {"store": "changelog"}
    config["kafka"]["instance_id"] = instance_id
    return config


class Member(tp.Alertbridge):
    """One `alertbridge run` of a group, its config written as YAML."""

    def __init__(self, test, name, config):
        super().__init__(test, name, config)
        self.config_path = os.path.join(test.dir, name + ".yaml")

    def write_config(self):
        with open(self.config_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(self.config, f, sort_keys=False)

    def metric(self, name):
        """The sum of every series of metric `name` (labels or not)."""
        return sum(v for k, v in self.metrics().items()
                   if k == name or k.startswith(name + "{"))


# ------------------------------------------------------------------ input


class Plan:
    """The input of a scenario: `alerts` Alertmanager alerts named
    a00000.., grouped GROUP to a notification as Alertmanager groups them,
    each notification unkeyed on a partition picked at random (seeded)."""

    SEVERITIES = ("critical", "warning", "info", "error")

    def __init__(self, alerts):
        self.names = ["a%05d" % i for i in range(alerts)]
        self.rng = random.Random(SEED)

    def alert(self, i, name, status, note):
        labels = {"alertname": "StatefulCheck", "alert": name,
                  "instance": "host-%s:9100" % name, "job": "stateful-it",
                  "severity": self.SEVERITIES[i % len(self.SEVERITIES)]}
        return {"status": status, "labels": labels,
                "annotations": {"summary": "%s %s" % (name, note)},
                "startsAt": "2026-12-01T00:00:00.000Z",
                "endsAt": "2026-12-01T01:00:00.000Z"
                if status == "resolved" else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "%016x" % i}

    def notifications(self, status, note):
        """[(partition, value)], one per group of alerts."""
        out = []
        for first in range(0, len(self.names), GROUP):
            names = self.names[first:first + GROUP]
            doc = {"receiver": "alertbridge", "status": status,
                   "alerts": [self.alert(first + k, n, status, note)
                              for k, n in enumerate(names)],
                   "groupLabels": {}, "commonLabels": {},
                   "commonAnnotations": {},
                   "externalURL": "http://alertmanager:9093", "version": "4",
                   "groupKey": "{}:{alert=~\"%s\"}" % names[0],
                   "truncatedAlerts": 0}
            out.append((self.rng.randrange(PARTITIONS),
                        json.dumps(doc).encode()))
        return out

    def firings(self, rounds):
        recs = []
        for r in rounds:
            recs += self.notifications("firing", "firing %d" % (r + 1))
        return recs

    def resolutions(self):
        return self.notifications("resolved", "resolved")

    def claimed(self):
        return self.names[::CLAIM_EVERY]


class Feed(tp.Stream):
    """Produces [(partition, value)] unkeyed to `topic` from a thread (a
    test_pipeline Stream whose records are given), at `rate` records a
    second (None: at once); finish() waits for every delivery and returns
    their timestamps (ms)."""

    def __init__(self, test, topic, records, rate=None):
        super().__init__(test, topic, None)
        self.records = records
        self.rate = rate
        self.stamps = []

    def report(self, err, msg):
        with self.lock:
            if err is None:
                self.stamps.append(msg.timestamp()[1])
            else:
                self.failed.append(err)

    def run(self):
        t0 = time.monotonic()
        for i, (partition, value) in enumerate(self.records):
            if self.stop.is_set():
                return
            if self.rate:  # pace the stream; also serves delivery reports
                self.producer.poll(max(0, t0 + i / self.rate -
                                       time.monotonic()))
            self.producer.produce(self.topic, value=value,
                                  partition=partition,
                                  on_delivery=self.report)
            self.produced += 1

    def wait_produced(self, n, what):
        self.test.wait_for(lambda: self.produced >= n, what)

    def finish(self):
        self.thread.join(WAIT + len(self.records) / (self.rate or 1000))
        self.test.assertFalse(self.thread.is_alive(), "the feed is stuck")
        self.test.assertEqual(self.producer.flush(WAIT), 0,
                              "the feed was not delivered")
        self.test.assertEqual(self.failed, [])
        self.test.assertEqual(len(self.stamps), len(self.records))
        return list(self.stamps)


# ------------------------------------------------------------------ checks


def event_parts(msg):
    """(event id, short type, alert id, fingerprint, alert name, event)."""
    ev = json.loads(msg.value())
    alert = tp.alert_of(ev)
    return (ev["id"], ev["type"].rsplit(":", 1)[-1], ev["alertid"],
            alert["fingerprint"], alert["labels"].get("alert"), ev)


def dead_letter_codes(dead):
    """{error code: dead letters} of the dead-letter records `dead`."""
    codes = {}
    for m in dead:
        code = (tp.header(m, "alertbridge.error.code") or b"?").decode()
        codes[code] = codes.get(code, 0) + 1
    return codes


def tally(names, events, dead, claims, exactly_once):
    """Counts what came out for alerts `names` (each fired, then resolved
    once) and claims {name: alert id}; returns (counts, problems): each
    problem is a sentence, none when every expectation holds exactly."""
    by_id = {}       # event id -> {(type, alert id, fingerprint)}
    per = {k: {} for k in ("create", "close", "claim")}  # type -> key -> ids
    types = {}
    closes = {}      # event id -> close event
    for m in events:
        eid, kind, aid, fp, name, ev = event_parts(m)
        by_id.setdefault(eid, set()).add((kind, aid, fp))
        types[kind] = types.get(kind, 0) + 1
        if kind in per:
            for key in (("name", name), ("aid", aid), ("fp", fp)):
                per[kind].setdefault(key, set()).add(eid)
        if kind == "close":
            closes[eid] = ev
    codes = dead_letter_codes(dead)

    def keyed(kind, how):
        return {k[1]: v for k, v in per[kind].items() if k[0] == how}
    creates, closed = keyed("create", "name"), keyed("close", "name")
    create_aids, close_aids = keyed("create", "aid"), keyed("close", "aid")
    create_fps, close_fps = keyed("create", "fp"), keyed("close", "fp")
    claim_aids = keyed("claim", "aid")
    wanted = set(names)
    claimed = set(claims.values())
    counts = {
        "alerts": len(names),
        "creates": sum(len(v) for v in creates.values()),
        "closes": sum(len(v) for v in closed.values()),
        "alerts_opened_again": sum(len(v) > 1 for v in creates.values()),
        "alert_ids": len(create_aids),
        "episodes_never_closed": len(set(create_aids) - set(close_aids)),
        "alerts_never_closed": len(set(creates) - set(closed)),
        "claims_sent": len(claims),
        "claims_accepted": sum(a in claim_aids for a in claimed),
        "claims_dead_lettered": codes.get("action_unknown_alert", 0),
        "dead_letters": codes,
        "event_records": len(events),
        "repeated_records": len(events) - len(by_id),
        "types": types,
    }
    problems = []

    def want(what, bad):
        if bad:
            problems.append("%s: %d" % (what, bad))
    want("alerts with no create", len(wanted - set(creates)))
    want("alerts not closed", len(wanted - set(closed)))
    want("events of unknown alerts",
         len((set(creates) | set(closed)) - wanted))
    for key, c, d in (("alert name", creates, closed),
                      ("fingerprint", create_fps, close_fps),
                      ("alert id", create_aids, close_aids)):
        want("%ss with more than one create" % key,
             sum(len(v) > 1 for v in c.values()))
        want("%ss with more than one close" % key,
             sum(len(v) > 1 for v in d.values()))
        want("%ss created and never closed" % key, len(set(c) - set(d)))
        want("%ss closed but never created" % key, len(set(d) - set(c)))
    if len(create_fps) != len(wanted):
        problems.append("distinct fingerprints: %d, want %d" %
                        (len(create_fps), len(wanted)))
    want("claims not accepted", len(claimed - set(claim_aids)))
    want("alert ids claimed more than once",
         sum(len(v) > 1 for v in claim_aids.values()))
    want("claim events for alerts nobody claimed",
         len(set(claim_aids) - claimed))
    want("events of other types (merged duplicates?)",
         sum(n for k, n in types.items() if k not in per))
    if len(by_id) != 2 * len(names) + len(claims):
        problems.append("distinct events: %d, want %d (creates + closes + "
                        "claims)" % (len(by_id),
                                     2 * len(names) + len(claims)))
    want("dead letters", sum(codes.values()))
    want("event ids carried by different events",
         sum(len(v) > 1 for v in by_id.values()))
    if exactly_once:
        want("repeated event ids (read committed)", len(events) - len(by_id))
        want("closes whose alertcount is not %d" % FIRINGS,
             sum(ev.get("alertcount") != FIRINGS
                 for ev in closes.values()))
    return counts, problems


# ------------------------------------------------------------------ base


class StatefulTest(tp.PipelineTest):
    """Per test: a raw topic of 6 partitions, an output topic, a DLQ, an
    actions topic of one partition, a group; members of that group."""

    def setUp(self):
        super().setUp()
        self.started = time.monotonic()
        self.phases = []
        self.inp, self.out = self.create_topics("in", "out",
                                                partitions=PARTITIONS)
        self.dlq, self.actions = self.create_topics("dlq", "actions")
        # Registered before any member starts, so it runs after they died.
        self.addCleanup(self.delete_topics, list(internal_topics(
            self.group())))
        self.offsets = Consumer({
            "logger": tp.CLIENT_LOG, "bootstrap.servers": self.brokers,
            "group.id": self.group(), "enable.auto.commit": False})
        self.addCleanup(self.offsets.close)
        committed = {"isolation.level": "read_committed"}
        self.events = tp.TopicReader(self, self.out, committed)
        self.dead = tp.TopicReader(self, self.dlq, committed)
        self.partitions = {}

    def phase(self, name):
        self.phases.append("%s@%.1fs" % (name,
                                         time.monotonic() - self.started))

    def member(self, i, guarantee, integration="alertmanager", state=None,
               **extra):
        name = "m%d" % i
        config = self.config(
            [{"topics": [self.inp], "integration": integration}],
            self.out, self.dlq, actions_topic=self.actions,
            kafka={"consumer_properties": {
                "session.timeout.ms": str(SESSION_TIMEOUT_MS),
                "heartbeat.interval.ms": "1000"}}, **extra)
        m = Member(self, name, stateful(config, guarantee, name))
        if state:
            m.config["state"].update(state)
        self.processes.append(m)
        return m

    # ---- offsets

    def topic_partitions(self, topic):
        """The partitions of `topic`, [] while it does not exist."""
        if topic not in self.partitions:
            md = self.offsets.list_topics(topic, timeout=WAIT).topics[topic]
            if md.error is not None or not md.partitions:
                return []
            self.partitions[topic] = sorted(md.partitions)
        return [TopicPartition(topic, p) for p in self.partitions[topic]]

    # The broker is shared, and other tests restart it: a query that fails
    # returns None, and the condition that asked is not met yet.

    def ends(self, topic):
        try:
            return [self.offsets.get_watermark_offsets(tp_, timeout=WAIT)[1]
                    for tp_ in self.topic_partitions(topic)]
        except KafkaException:
            return None

    def committed(self, topic):
        try:
            return [max(tp_.offset, 0) for tp_ in self.offsets.committed(
                self.topic_partitions(topic), timeout=WAIT)]
        except KafkaException:
            return None

    def lag(self, exactly_once):
        """Records of the raw, actions and internal alerts topics that the
        group has not committed. In exactly_once the internal topic is
        written in transactions, and its last commit marker is never
        consumed: one record of slack per partition there."""
        alerts = internal_topics(self.group())[0]
        total = 0
        for topic in (self.inp, self.actions, alerts):
            if not self.topic_partitions(topic):
                continue
            slack = 1 if exactly_once and topic == alerts else 0
            ends, committed = self.ends(topic), self.committed(topic)
            if ends is None or committed is None:
                return None
            total += sum(max(0, e - c - slack)
                         for e, c in zip(ends, committed))
        return total

    def settle(self, what, exactly_once):
        """Wait until the group has committed every input and the outputs
        have not moved for STABLE seconds."""
        last = [None, 0.0, 0.0]  # output ends, since when, last check

        def done():
            now = time.monotonic()
            self.events.pump(0)
            self.dead.pump(0)
            if now - last[2] < 0.25:
                return False
            last[2] = now
            ends = (self.ends(self.out), self.ends(self.dlq))
            if None in ends:
                return False
            if ends != last[0]:
                last[0], last[1] = ends, now
                return False
            return now - last[1] >= STABLE and self.lag(exactly_once) == 0
        self.wait_for(done, "%s: the group's lag at 0 and the outputs "
                      "still for %ss" % (what, STABLE))
        while self.events.pump(0.5) or self.dead.pump(0.5):
            pass
        self.phase(what)

    # ---- scenario steps

    def start_all(self, members):
        for m in members:
            m.start()
        for m in members:
            m.wait_ready()
        self.phase("ready")

    def claim(self, plan):
        """Claims the sampled alerts by the alert id of their (first)
        create; returns {name: alert id}."""
        sample = set(plan.claimed())
        ids = {}
        for m in self.events.messages:
            _, kind, aid, _, name, _ = event_parts(m)
            if kind == "create" and name in sample and name not in ids:
                ids[name] = aid
        Feed(self, self.actions, [
            (0, json.dumps({"action": "claim", "alert_id": aid,
                            "operator": "x"}).encode())
            for aid in ids.values()]).start().finish()
        return ids

    def assert_entries(self, version):
        """Every entry of the group's changelog is of `version`, with the
        checksum and the blob coding of that version (docs/lifecycle.md,
        *Changelog*): flag 8, values opt-coded, in version 3 only."""
        changelog = internal_topics(self.group())[1]
        reader = tp.TopicReader(self, changelog,
                                {"isolation.level": "read_committed"})
        ends = sum(self.ends(changelog) or [0])
        self.assertGreater(ends, 0, "%s is empty" % changelog)
        reader.wait_count(ends, changelog)
        entries = [m.value() for m in reader.messages if m.value()]
        self.assertTrue(entries, "%s holds only tombstones" % changelog)
        for e in entries:
            body, check = e[:-16], e[-16:]
            self.assertEqual(body[:4], b"ABLE")
            self.assertEqual(body[4], version, "entry version")
            want = (hashlib.sha256(body).digest()[:16] if version == 1
                    else xxhash.xxh3_128_digest(body))
            self.assertEqual(check, want, "entry checksum")
            self.assertEqual(blob_of(body)[0] & 8, 8 if version >= 3 else 0,
                             "blob coding of an entry of version %d" %
                             version)

    def scenario(self, guarantee, members=3, disrupt=None, split=None,
                 state=None):
        """The common run: start `members` (with `state` added to their
        state configuration), the firings (paced, with `disrupt(members)`
        a quarter in; or in two parts with a restart of the first member
        after round `split`), the claims, the recoveries; then the
        checks."""
        eos = guarantee == "exactly_once"
        plan = Plan(ALERTS)
        ms = [self.member(i, guarantee, state=state) for i in range(members)]
        self.start_all(ms)
        rounds = list(range(FIRINGS))
        first = rounds[:split] if split else rounds
        recs = plan.firings(first)
        rate = len(recs) / FIRING_SECONDS if disrupt else None
        feed = Feed(self, self.inp, recs, rate).start()
        if disrupt:
            feed.wait_produced(len(recs) // 4, "a quarter of the firings")
            self.phase("disrupt")
            disrupt(ms)
            self.phase("disrupted")
        feed.finish()
        self.settle("firings", eos)
        if split:
            self.stop_ok(ms[0])
            ms[0].start()
            ms[0].wait_ready()
            self.phase("restarted")
            Feed(self, self.inp, plan.firings(rounds[split:])).start() \
                .finish()
            self.settle("more firings", eos)
        claims = self.claim(plan)
        self.settle("claims", eos)
        Feed(self, self.inp, plan.resolutions()).start().finish()
        self.settle("resolutions", eos)
        for m in ms:
            self.stop_ok(m)
        # A paced stream leaves the consumer without records at hand
        # most of the time, so its batches are small: batching is checked
        # on the unpaced ones.
        batched = None if disrupt else (state or {}).get(
            "batch_max_bytes") != 0
        self.check(plan.names, claims, eos, batched)

    def check(self, names, claims, exactly_once, batched=None):
        counts, problems = tally(names, self.events.messages,
                                 self.dead.messages, claims, exactly_once)
        if not LEGACY:
            for topic in internal_topics(self.group()):
                if len(self.topic_partitions(topic)) != PARTITIONS:
                    problems.append("internal topic %s: %d partitions, "
                                    "want %d" % (topic, len(
                                        self.topic_partitions(topic)),
                                        PARTITIONS))
        if not LEGACY and not exactly_once and batched is not None:
            problems += self.check_batching(names, claims, batched, counts)
        self.report(counts)
        self.assertEqual(problems, [], json.dumps(counts))

    def check_batching(self, names, claims, batched, counts):
        """at_least_once (no transaction markers): the map stage wrote
        one ALERT per firing and recovery and one ACTION per claim, in
        batches unless batching is off; then each is a record."""
        items = len(names) * (FIRINGS + 1) + len(claims)
        ends = self.ends(internal_topics(self.group())[0])
        if ends is None:
            return ["the ends of the alerts topic could not be read"]
        counts["alerts_topic_records"] = records = sum(ends)
        if batched and records > items // 2:
            return ["%d records in the alerts topic for %d alerts and "
                    "actions: not batched" % (records, items)]
        if not batched and records < items:
            return ["%d records in the alerts topic for %d alerts and "
                    "actions, with batching off" % (records, items)]
        return []

    def report(self, counts):
        print("\nstateful: %s%s %.1fs %s phases=%s" % (
            self.id().split(".", 1)[1], " (legacy)" if LEGACY else "",
            time.monotonic() - self.started, json.dumps(counts),
            " ".join(self.phases)), file=sys.stderr)

    # ---- disruptions

    def kill_one(self, ms):
        """kill -9 of the second member; once the others have processed
        every record produced before it died, it starts again."""
        victim = ms[1]
        victim.stop(signal.SIGKILL)
        mark = []
        self.wait_for(lambda: mark.append(self.ends(self.inp)) or mark[-1],
                      "the ends of the raw partitions")

        def taken_over():
            committed = self.committed(self.inp)
            return committed is not None and all(
                c >= e for c, e in zip(committed, mark[-1]))
        self.wait_for(taken_over, "the others take over %s's partitions" %
                      victim.name)
        self.phase("taken over")
        victim.start()
        victim.wait_ready()

    def rolling_restart(self, ms):
        """SIGTERM, exit, start, ready: each member after the other."""
        for m in ms:
            self.stop_ok(m)
            m.start()
            m.wait_ready()


# ------------------------------------------------------------------ tests


class ThreeMembers(StatefulTest):
    """Three members in one group share the raw partitions: each alert's
    firings and recovery reach different members."""

    def test_at_least_once(self):
        self.scenario("at_least_once")

    def test_exactly_once(self):
        self.scenario("exactly_once")


class Unbatched(StatefulTest):
    """state.batch_max_bytes 0, for a group upgraded from a release
    without batches: every ALERT and ACTION a record of its own, with the
    same results."""

    def test_at_least_once(self):
        self.scenario("at_least_once", state={"batch_max_bytes": 0})


class KillMember(StatefulTest):
    """kill -9 of a member a quarter into the firings; the others take
    over, then it starts again."""

    def test_at_least_once(self):
        self.scenario("at_least_once", disrupt=self.kill_one)

    def test_exactly_once(self):
        self.scenario("exactly_once", disrupt=self.kill_one)


class RollingRestart(StatefulTest):
    """Every member restarted (SIGTERM, start) one after the other, a
    quarter into the firings."""

    def test_at_least_once(self):
        self.scenario("at_least_once", disrupt=self.rolling_restart)

    def test_exactly_once(self):
        self.scenario("exactly_once", disrupt=self.rolling_restart)


class SingleRestart(StatefulTest):
    """One member, restarted after 3 of the 5 firing rounds: the later
    firings merge into the alerts it opened before, the recoveries close
    them."""

    def test_at_least_once(self):
        self.scenario("at_least_once", members=1, split=3)
        self.assert_entries(3)

    def test_exactly_once(self):
        self.scenario("exactly_once", members=1, split=3)


class ChangelogVersion1(StatefulTest):
    """state.changelog_version 1, for a group upgraded member by member
    from a release that reads only version 1 entries: the restart
    restores from them with the same results, and every entry written is
    version 1, sealed with SHA-256."""

    def test_at_least_once(self):
        self.scenario("at_least_once", members=1, split=3,
                      state={"changelog_version": 1})
        self.assert_entries(1)


class AutoClearMoved(StatefulTest):
    """An alert's auto-clear fires once, on the member its partition moved
    to: member a stops cleanly after the firings, before any deadline;
    b takes a's partitions, and with them a's alerts, and closes every
    alert exactly once."""

    AUTO_CLEAR = 8  # seconds: a must stop before the first deadline
    ALERTS = 24

    def integration(self):
        """The alertmanager built-in, renamed, with auto_clear."""
        with open(os.path.join(tp.REPO, "integrations", "alertmanager.yaml"),
                  encoding="utf-8") as f:
            text = f.read()
        self.assertIn("\nname: alertmanager\n", text)
        text = text.replace("\nname: alertmanager\n",
                            "\nname: am-autoclear\nauto_clear: %ds\n" %
                            self.AUTO_CLEAR)
        path = os.path.join(self.dir, "am-autoclear.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_fires_once_on_the_new_owner(self):
        integration = self.integration()
        a, b = (self.member(i, "at_least_once", integration=integration,
                            lifecycle={"expire_interval": "200ms"})
                for i in range(2))
        self.start_all([a, b])

        def holds_state(m):
            """m's log shows <group>.alerts partitions assigned to it:
            ready alone can mean a standby while the group still
            rebalances."""
            with open(m.log_path, "rb") as f:
                return re.search(rb'msg="partitions assigned" '
                                 rb'partitions="[^"]*\.alerts\[',
                                 f.read()) is not None
        for m in (a, b):
            self.wait_for(lambda: holds_state(m),
                          "%s holds <group>.alerts partitions" % m.name)
        plan = Plan(self.ALERTS)
        stamps = Feed(self, self.inp, plan.firings([0])).start().finish()
        first = min(stamps) / 1000 + self.AUTO_CLEAR
        last = max(stamps) / 1000 + self.AUTO_CLEAR

        def opened():
            self.events.pump(0)
            return sum(event_parts(m)[1] == "create"
                       for m in self.events.messages) >= self.ALERTS
        self.wait_for(opened, "the creates")
        self.wait_for(lambda: a.metric("alertbridge_open_alerts") +
                      b.metric("alertbridge_open_alerts") == self.ALERTS,
                      "every alert open on a or b")
        owned = int(a.metric("alertbridge_open_alerts"))
        if owned == 0:
            # cooperative-sticky may leave every <group>.alerts partition
            # with one member (the other keeps the raw ones): the member
            # that stops is the one holding the alerts.
            a, b = b, a
            owned = int(a.metric("alertbridge_open_alerts"))
        self.assertGreater(owned, 0, "setup: a holds no alert to move")
        self.stop_ok(a)
        self.phase("a stopped")
        self.assertLess(time.time(), first, "setup: a stopped after the "
                        "first deadline; raise AUTO_CLEAR")

        # The closes come once b owns a's partitions (a session timeout
        # after a left); bounded, for a binary that never sends them.
        give_up = last + SESSION_TIMEOUT_MS / 1000 + 15

        def closed():
            self.events.pump(0)
            return sum(event_parts(m)[1] == "close"
                       for m in self.events.messages) >= self.ALERTS
        while not closed() and time.time() < give_up and b.alive():
            time.sleep(tp.POLL)
        self.settle("auto-clears", False)
        sent_by_b = int(sum(
            v for k, v in b.metrics().items()
            if k.startswith("alertbridge_events_out_total{") and
            'type="close"' in k))
        self.stop_ok(b)
        codes = dead_letter_codes(self.dead.messages)
        closes = {}
        creates = set()
        for m in self.events.messages:
            eid, kind, _, _, name, ev = event_parts(m)
            if kind == "close":
                closes.setdefault(name, {})[eid] = ev
            elif kind == "create":
                creates.add(eid)
        counts = {"alerts": self.ALERTS, "held_by_a": owned,
                  "creates": len(creates),
                  "alerts_closed": len(closes),
                  "closes": sum(len(v) for v in closes.values()),
                  "closes_sent_by_b": sent_by_b,
                  "dead_letters": codes}
        self.report(counts)
        problems = []
        if sum(codes.values()):
            problems.append("dead letters: %s" % codes)
        if len(creates) != self.ALERTS:
            problems.append("creates: %d" % len(creates))
        if set(closes) != set(plan.names):
            problems.append("alerts not closed: %d" %
                            len(set(plan.names) - set(closes)))
        if any(len(v) != 1 for v in closes.values()):
            problems.append("alerts closed more than once")
        if sent_by_b != self.ALERTS:
            problems.append("closes sent by b: %d" % sent_by_b)
        solutions = {ev["data"].get("solution", "").split(":")[0]
                     for v in closes.values() for ev in v.values()}
        if solutions - {"auto-cleared"}:
            problems.append("closes other than auto-clears: %s" % solutions)
        self.assertEqual(problems, [], json.dumps(counts))


if __name__ == "__main__":
    sys.exit(tp.main("test_stateful"))
