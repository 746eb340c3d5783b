#!/usr/bin/env python3
"""test_trace.py - an input record's W3C trace context reaches its events.

Issue 13 item 15 on the real broker with the real `alertbridge run`: raw
alerts and actions are produced with `traceparent`/`tracestate` headers
(and the CloudEvents Kafka binding's `ce_traceparent`), and the same
input goes through both loops at once: the single-store loop
(`state.store: memory`, structured events) and the two-stage stateful
loop (`state.store: changelog`, binary events, so the trace context
crosses `<group>.alerts` in the ALERT record). Checked on the output:
each event carries its own record's trace context (the CloudEvents
distributed-tracing extension: a member of the structured event, a
`ce_` header in binary mode) and satisfies schemas/event.schema.json; an
invalid header is dropped and counted, the record still becomes an
event; a rejected record's dead letter keeps its trace headers as they
were, valid or not. The official CloudEvents Python SDK
(tests/support/ce_sdk_check.py, in the venv of scripts/sdk-venv.sh)
reads every output record of both bindings and must find the same
tracing attributes.

  test_trace.py --alertbridge BIN [--workdir DIR] [unittest args...]

The processes, readers and bounded waits are test_pipeline.py's.
"""

import json
import os
import subprocess
import sys

import test_pipeline as tp

TP1 = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TS1 = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
TP2 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
TP3 = "00-11111111111111111111111111111111-2222222222222222-01"
TP4 = "01-33333333333333333333333333333333-4444444444444444-01-future"
BAD_TP = "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"


def hdr(*pairs):
    return [(k, v.encode()) for k, v in pairs]


class TraceContext(tp.PipelineTest):
    def test_both_loops_carry_the_trace_context(self):
        gen, actions, out_m, out_c, dlq_m, dlq_c = self.create_topics(
            "gen", "actions", "out-memory", "out-changelog", "dlq-memory",
            "dlq-changelog")
        inputs = [{"topics": [gen], "integration": "generic"}]
        memory = self.config(inputs, out_m, dlq_m, actions_topic=actions,
                             state={"store": "memory"},
                             output={"binding": "structured"})
        memory["kafka"]["group"] = self.group("memory")
        changelog = self.config(inputs, out_c, dlq_c, actions_topic=actions,
                                state={"store": "changelog"},
                                output={"binding": "binary"})
        changelog["kafka"]["group"] = self.group("changelog")

        # (alertname, headers) -> the trace context its create carries
        firing = [
            ("traced", hdr(("traceparent", TP1), ("tracestate", TS1)),
             (TP1, TS1)),
            ("ce-named", hdr(("ce_traceparent", TP2)), (TP2, None)),
            ("future", hdr(("traceparent", TP4)), (TP4, None)),
            ("invalid", hdr(("traceparent", BAD_TP), ("tracestate", TS1)),
             (None, None)),
            ("bad-state", hdr(("traceparent", TP3), ("tracestate", "A=1")),
             (TP3, None)),
            ("untraced", [], (None, None)),
        ]
        for name, headers, _ in firing:
            self.produce(gen, tp.generic_alert(name), headers=headers)
        rejected = [hdr(("traceparent", TP1), ("tracestate", TS1)),
                    hdr(("traceparent", BAD_TP), ("tracestate", "A=1"))]
        for headers in rejected:
            self.produce(gen, b'{"severity": "P2"}', headers=headers)
        abs_ = [self.alertbridge(memory, "memory").start(),
                self.alertbridge(changelog, "changelog").start()]
        readers = [tp.TopicReader(self, out_m), tp.TopicReader(self, out_c)]
        for r in readers:
            r.wait_count(len(firing))

        # A recovery and an action, each with a trace context of its own.
        self.produce(gen, tp.generic_alert("traced", status="resolved"),
                     headers=hdr(("traceparent", TP3)))
        fp = {}
        for m in readers[0].messages:
            ev = json.loads(m.value())
            fp[tp.alert_of(ev)["labels"]["alertname"]] = m.key().decode()
        self.produce(actions, json.dumps(
            {"action": "claim", "fingerprint": fp["untraced"],
             "operator": "ann"}).encode(),
            headers=hdr(("traceparent", TP2), ("tracestate", TS1)))
        for r in readers:
            r.wait_count(len(firing) + 2)
        dlq = [tp.TopicReader(self, dlq_m), tp.TopicReader(self, dlq_c)]
        for r in dlq:
            r.wait_count(len(rejected))
        metrics = [ab.metrics() for ab in abs_]
        for ab in abs_:
            self.stop_ok(ab)

        want = {("create", name): t for name, _, t in firing}
        want[("close", "traced")] = (TP3, None)
        want[("claim", "untraced")] = (TP2, TS1)
        for loop, reader in zip(("memory", "changelog"), readers):
            got = {}
            for m in reader.messages:
                ev = self.event_of(m, binary=loop == "changelog")
                key = (ev["type"].rsplit(":", 1)[1],
                       tp.alert_of(ev)["labels"]["alertname"])
                got[key] = (ev.get("traceparent"), ev.get("tracestate"))
            with self.subTest(loop=loop):
                self.assertEqual(got, want)
        # The official SDK reads the same attributes from the same records.
        for loop, reader in zip(("memory", "changelog"), readers):
            with self.subTest(loop=loop, reader="cloudevents SDK"):
                sdk = self.sdk_read(reader.messages)
                self.assertEqual(len(sdk), len(reader.messages))
                for ev, m in zip(sdk, reader.messages):
                    mine = self.event_of(m, binary=loop == "changelog")
                    self.assertEqual(ev["id"], mine["id"])
                    self.assertEqual(ev.get("traceparent"),
                                     mine.get("traceparent"))
                    self.assertEqual(ev.get("tracestate"),
                                     mine.get("tracestate"))
        for loop, m in zip(("memory", "changelog"), metrics):
            with self.subTest(loop=loop):
                # counted once per record, by the map stage in changelog
                self.assertEqual(
                    m["alertbridge_traceparent_invalid_total"], 2)
                self.assertEqual(
                    m["alertbridge_tracestate_invalid_total"], 1)
        for loop, reader in zip(("memory", "changelog"), dlq):
            with self.subTest(loop=loop):
                self.assertEqual(len(reader.messages), len(rejected))
                for m, headers in zip(reader.messages, rejected):
                    self.assertEqual(tp.headers_of(m)[:len(headers)],
                                     headers)
                    self.assertEqual(
                        tp.header(m, "alertbridge.error.code"),
                        b"no_alertname")
        self.assertIn("invalid trace context header dropped",
                      abs_[0].log())

    def sdk_read(self, messages):
        """The attributes of each record as the CloudEvents SDK reads
        them."""
        path = os.path.join(self.dir, "records-%d.json" % id(messages))
        with open(path, "w", encoding="utf-8") as f:
            json.dump([{"headers": [[k, v.decode()]
                                    for k, v in tp.headers_of(m)],
                        "key": m.key().decode(),
                        "value": m.value().decode()} for m in messages], f)
        run = subprocess.run(
            [sys.executable, os.path.join(tp.REPO, "tests", "support",
                                          "ce_sdk_check.py"), path],
            capture_output=True, text=True, timeout=tp.WAIT, check=False)
        self.assertEqual(run.returncode, 0, run.stderr)
        return json.loads(run.stdout)

    def event_of(self, m, binary):
        """The event of output record `m`, checked against the schema;
        a binary-mode record is rebuilt from its ce_ headers first."""
        if not binary:
            return self.assert_event(m)
        h = {k: v.decode() for k, v in tp.headers_of(m)}
        ev = {k[3:]: v for k, v in h.items() if k.startswith("ce_")}
        ev["datacontenttype"] = h["content-type"]
        if "alertcount" in ev:
            ev["alertcount"] = int(ev["alertcount"])
        ev["data"] = json.loads(m.value())
        self.assertEqual(list(tp.VALIDATOR.iter_errors(ev)), [], ev)
        return ev


if __name__ == "__main__":
    sys.exit(tp.main("test_trace"))
