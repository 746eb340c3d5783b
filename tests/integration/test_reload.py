#!/usr/bin/env python3
"""test_reload.py - hot reload (docs/reloading.md) on the real broker.

A real `alertbridge run` maps a stream of records through an integration
file while the test rewrites that file and asks for reloads with SIGHUP
and `POST /-/reload`: a good file (a new label value), a bad one (kept
out, the old mapping keeps running, the error and the metrics say so), a
change of a key that needs a restart (refused as a whole). Then every
record produced must have come out exactly once as an event or a dead
letter, the events switch from the old mapping to the new one at one
point of the input and never back, and an alert opened before the reload
is still open after it (its dedup fields did not change). Once per loop:
the memory store (with transform threads) and the two-stage changelog
pipeline.

  test_reload.py --alertbridge BIN [--workdir DIR] [unittest args...]

The broker, helpers and bounded waits are test_pipeline.py's.
"""

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

import test_pipeline as tp

TOKEN = "reload-token-0123456789abcdef"

INTEGRATION = """\
name: reload-it
recovery:
  when: {field: $.status, in: [resolved]}
fields:
  alertname: {direct: $.alertname}
  severity: {direct: $.severity}
  message: {direct: $.message}
  source: {direct: $.source}
labels:
  mapping: {value: %s}
dedup: {fields: [alertname]}
"""

# A method that does not exist: the loader names the key path.
BAD_INTEGRATION = INTEGRATION.replace("{value: %s}", "{valu: %s}")


class Reload(tp.PipelineTest):
    def write_integration(self, text):
        tmp = self.integ_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.integ_path)

    def post_reload(self, ab, token=TOKEN):
        """(status, JSON answer) of POST /-/reload with `token`."""
        req = urllib.request.Request(
            "http://127.0.0.1:%d/-/reload" % ab.port, method="POST",
            data=b"", headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=tp.WAIT) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, body.decode()

    def metric(self, ab, name):
        return ab.metrics().get("alertbridge_" + name)

    def creates(self, reader):
        """{alertname: mapping label} of the create events read."""
        reader.pump()
        out = {}
        for m in reader.messages:
            ev = json.loads(m.value())
            if ev["type"].endswith(":create"):
                labels = tp.alert_of(ev)["labels"]
                self.assertNotIn(labels["alertname"], out, "created twice")
                out[labels["alertname"]] = labels["mapping"]
        return out

    def wait_mapping(self, reader, value):
        """Wait for a streamed record's create mapped with value (the
        kept-open alert does not count: it alone proves no stream record
        went through that mapping)."""
        self.wait_for(lambda: value in [
            v for k, v in self.creates(reader).items() if k != "kept-open"],
            "a streamed record's event mapped with mapping=%s" % value)

    def reload_by(self, ab, how):
        """Ask for a reload; returns the POST answer, or None for SIGHUP
        (then waits until the loop logged its outcome)."""
        if how == "post":
            return self.post_reload(ab)
        marks = ab.log().count("configuration reloaded") + \
            ab.log().count("reload failed")
        ab.proc.send_signal(signal.SIGHUP)
        self.wait_for(lambda: ab.log().count("configuration reloaded") +
                      ab.log().count("reload failed") > marks,
                      "the SIGHUP reload to be logged")
        return None

    def run_loop(self, store, good_by, bad_by):
        inp, out, dlq = self.create_topics("in", "out", "dlq")
        self.integ_path = os.path.join(self.dir, "reload-it.yaml")
        self.write_integration(INTEGRATION % "v1")
        token_file = os.path.join(self.dir, "token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(TOKEN + "\n")
        extra = {"http": {"reload": {"enabled": True,
                                     "token_file": token_file}}}
        if store == "memory":
            # Mapped ahead on worker threads: the swap waits for them.
            extra["state"] = {"store": "memory"}
            extra["transform"] = {"threads": 2}
        else:
            extra["state"] = {"store": "changelog"}
            extra["processing"] = {"commit_interval": "100ms"}
        ab = self.alertbridge(self.config(
            [{"topics": [inp], "integration": "reload-it.yaml"}], out, dlq,
            **extra))
        ab.start()
        ab.wait_ready()
        events, dead = tp.TopicReader(self, out), tp.TopicReader(self, dlq)
        self.assertEqual(self.metric(ab, "config_last_reload_successful"), 1)
        started = self.metric(ab,
                              "config_last_reload_success_timestamp_seconds")
        self.assertGreater(started, time.time() - 300)

        # Disabled methods, missing or wrong tokens.
        self.assertEqual(ab.http("/-/reload")[0], 405)
        self.assertEqual(self.post_reload(ab, "wrong-token-0123456789")[0],
                         401)

        # An alert opened under v1 that must stay open across reloads.
        self.produce(inp, tp.generic_alert("kept-open", source="kept"))
        stream = tp.Stream(self, inp, "r").start()
        stream.wait_more(50, "50 records before the reload")
        self.wait_mapping(events, "v1")

        # A good reload: the new mapping from one record on, in a later
        # second than the start, so its timestamp must move.
        while time.time() < started + 1:
            time.sleep(0.1)
        self.write_integration(INTEGRATION % "v2")
        answer = self.reload_by(ab, good_by)
        if answer is not None:
            self.assertEqual(answer[0], 200, answer)
            self.assertEqual(answer[1]["status"], "success")
        self.wait_mapping(events, "v2")
        self.assertEqual(self.metric(ab, "config_last_reload_successful"), 1)
        reloaded = self.metric(ab,
                               "config_last_reload_success_timestamp_seconds")
        self.assertGreater(reloaded, started)
        stream.wait_more(50, "50 records after the good reload")

        # A bad file: refused, v2 keeps running, the error names the key.
        self.write_integration(BAD_INTEGRATION % "v3")
        answer = self.reload_by(ab, bad_by)
        if answer is not None:
            self.assertEqual(answer[0], 422, answer)
            self.assertIn("labels.mapping", answer[1]["error"])
        self.assertEqual(self.metric(ab, "config_reload_failures_total"), 1)
        self.assertEqual(self.metric(ab, "config_last_reload_successful"), 0)
        self.assertEqual(
            self.metric(ab, "config_last_reload_success_timestamp_seconds"),
            reloaded)
        self.assertRegex(ab.log(), r"reload failed.*labels\.mapping")
        stream.wait_more(50, "50 records after the bad reload")

        # A key that needs a restart: the whole reload is refused.
        self.write_integration(INTEGRATION % "v4")
        ab.config["kafka"]["group"] = self.group("other")
        ab.write_config()
        status, body = self.post_reload(ab)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["restart_required"], ["kafka.group"])
        self.assertIn('key="kafka.group"', ab.log())
        self.assertEqual(self.metric(ab, "config_reload_failures_total"), 2)

        keys = stream.finish()
        # The alert opened under v1 is still open: a recovery closes it.
        self.produce(inp, tp.generic_alert("kept-open", source="kept",
                                           status="resolved"))
        produced = len(keys) + 2
        self.wait_for(lambda: events.pump() >= 0 and dead.pump() >= 0 and
                      len(events.messages) + len(dead.messages) >= produced,
                      "%d events and dead letters" % produced)
        self.stop_ok(ab)
        events.pump()
        dead.pump()
        self.assertEqual(dead.messages, [])
        evs = [json.loads(m.value()) for m in events.messages]
        creates = self.creates(events)
        self.assertEqual(set(creates), keys | {"kept-open"})
        kept = [e for e in evs
                if tp.alert_of(e)["labels"]["alertname"] == "kept-open"]
        self.assertEqual([e["type"].rsplit(":", 1)[-1] for e in kept],
                         ["create", "close"], kept)
        self.assertEqual(kept[0]["alertid"], kept[1]["alertid"])
        # Mappings in input order (the stream's keys count up): v1, then
        # v2 from one record on; never v3 or v4.
        seq = [creates[k] for k in sorted(keys)]
        switch = seq.index("v2")
        self.assertEqual(set(seq[:switch]), {"v1"})
        self.assertEqual(set(seq[switch:]), {"v2"}, seq)

    def test_memory_loop(self):
        self.run_loop("memory", good_by="post", bad_by="sighup")

    def test_stateful_loop(self):
        self.run_loop("changelog", good_by="sighup", bad_by="post")


if __name__ == "__main__":
    sys.exit(tp.main("test_reload"))
