#!/usr/bin/env python3
"""test_operations.py - what an operator reads from a real `alertbridge
run` against a real broker: its metrics (per-integration series, latency
that measures processing, build info, process metrics, promtool's verdict,
every metric the Grafana dashboard names), its log lines in both formats,
and a refused broker connection logged once.

The processes, readers and bounded waits are test_pipeline.py's; the
checkers are tests/support/observability.py's. Usage as test_pipeline.py:
  test_operations.py --alertbridge BIN [--workdir DIR] [Class[.test]]
"""

import os
import re
import sys
import time

import test_pipeline as tp

sys.path.insert(0, os.path.join(tp.REPO, "tests", "support"))
import observability as obs  # noqa: E402


def not_ours(line):
    """The harness's own separators in a process log."""
    return line.startswith("==== run ")


class Operations(tp.PipelineTest):
    def test_latency_measures_processing_not_the_idle_poll(self):
        """Issue 15: with poll_timeout 5s, 3 records 3 s apart gave a
        record_latency _sum of 9.93 s: the poll's wait, not the work.
        Both loops: delivery reports (memory), the commit (changelog).
        consume_delay_seconds splits the wait by topic (issue 16)."""
        runs = []
        for store in ("memory", "changelog"):
            gen, out, dlq = self.create_topics(store + ".gen", store + ".out",
                                               store + ".dlq")
            ab = self.alertbridge(self.config(
                [{"topics": [gen], "integration": "generic"}], out, dlq,
                kafka={"poll_timeout": "5s", "group": self.group(store)},
                state={"store": store}),
                name=store)
            ab.start()
            runs.append((ab, gen, tp.TopicReader(self, out)))
        for ab, _, _ in runs:
            ab.wait_ready()
        for i in range(3):
            if i:
                time.sleep(2)  # the scenario: records arrive 2 s apart
            for ab, gen, reader in runs:
                self.produce(gen, tp.generic_alert("lat%d" % i, "P2"))
            for ab, gen, reader in runs:
                reader.wait_count(i + 1)
        for ab, _, _ in runs:
            self.wait_for(
                lambda: ab.metrics().get(
                    "alertbridge_record_latency_seconds_count") == 3,
                "3 latency observations of " + ab.name)
            m = ab.metrics()
            # Each record takes milliseconds; 1 s is generous on a busy
            # host and far below the 2 s of idle poll the old metric
            # counted.
            self.assertEqual(
                m['alertbridge_record_latency_seconds_bucket{le="1"}'], 3,
                "%s: record latency counts the idle poll: sum %s" %
                (ab.name, m["alertbridge_record_latency_seconds_sum"]))
            self.assertEqual(
                m["alertbridge_end_to_end_latency_seconds_count"], 3)
            self.assertEqual(
                m['alertbridge_end_to_end_latency_seconds_bucket{le="10"}'],
                3)
            # Each record's wait before the poll that returned it: 3
            # input records; in the two-stage loop also their 3 ALERT
            # records on <group>.alerts, none in the memory loop.
            delay = "alertbridge_consume_delay_seconds_"
            self.assertEqual(m[delay + 'count{topic="input"}'], 3)
            self.assertEqual(m[delay + 'bucket{topic="input",le="10"}'], 3)
            hops = 3 if ab.name == "changelog" else 0
            self.assertEqual(m[delay + 'count{topic="alerts"}'], hops)
            self.assertEqual(m[delay + 'bucket{topic="alerts",le="10"}'],
                             hops)
            self.stop_ok(ab)
            obs.check_log(self, ab.log(), "logfmt", skip=not_ours)

    def test_metrics_by_integration_promtool_and_the_dashboard(self):
        gen, am, out, dlq = self.create_topics("gen", "am", "out", "dlq")
        ab = self.alertbridge(self.config(
            [{"topics": [gen], "integration": "generic"},
             {"topics": [am], "integration": "alertmanager"}], out, dlq,
            log_format="json"))
        ab.start()
        ab.wait_ready()
        self.produce(gen, tp.generic_alert("g1", "P1"))
        self.produce(gen, tp.generic_alert("g2", "P2"))
        self.produce(gen, tp.generic_alert("g2", "P2", status="resolved"))
        self.produce(gen, tp.generic_alert("never-opened", "P3",
                                           status="resolved"))
        self.produce(gen, b"{broken")
        self.produce(gen, tp.generic_alert("x"),
                     headers=[("alertbridge-integration", b"no-such")])
        reader = tp.TopicReader(self, out)
        dlq_r = tp.TopicReader(self, dlq)
        reader.wait_count(3)
        dlq_r.wait_count(2)

        self.wait_for(lambda: ab.total("alertbridge_records_in_total") == 6,
                      "6 records counted")
        self.wait_for(
            lambda: ab.total("alertbridge_record_latency_seconds_count") == 6,
            "6 records acknowledged")
        status, text = ab.http("/metrics")
        m = tp.parse_metrics(text)
        expect = {
            'alertbridge_records_in_total{integration="generic"}': 5,
            'alertbridge_records_in_total{integration="alertmanager"}': 0,
            'alertbridge_records_in_total{integration="none"}': 1,
            'alertbridge_events_out_total'
            '{integration="generic",type="create"}': 2,
            'alertbridge_events_out_total'
            '{integration="generic",type="close"}': 1,
            'alertbridge_events_out_total'
            '{integration="alertmanager",type="create"}': 0,
            'alertbridge_rejections_total'
            '{integration="generic",code="decode"}': 1,
            'alertbridge_rejections_total'
            '{integration="none",code="no_integration"}': 1,
            'alertbridge_dlq_records_total{integration="generic"}': 1,
            'alertbridge_dlq_records_total{integration="none"}': 1,
            'alertbridge_orphan_recoveries_total{integration="generic"}': 1,
            "alertbridge_open_alerts": 1,
        }
        self.assertEqual({k: m.get(k) for k in expect}, expect)
        # Bounded label sets: integrations loaded plus "none"; codes of
        # the REJECT class only.
        integrations = set(re.findall(r'integration="([^"]*)"', text))
        self.assertEqual(integrations, {"generic", "alertmanager", "none"})
        self.assertNotIn('code="kafka"', text)
        build = [k for k in m if k.startswith("alertbridge_build_info{")]
        self.assertEqual(len(build), 1, build)
        self.assertRegex(build[0], r'^alertbridge_build_info\{version='
                         r'"\d+\.\d+\.\d+",commit="([0-9a-f]{12}|unknown)"\}$')
        self.assertEqual(m[build[0]], 1)
        start = m["process_start_time_seconds"]
        self.assertTrue(time.time() - 3600 < start <= time.time() + 1, start)
        self.assertGreater(m["process_resident_memory_bytes"], 1e6)
        self.assertGreater(m["process_open_fds"], 3)
        self.assertGreaterEqual(m["process_max_fds"], m["process_open_fds"])
        self.assertIn("process_cpu_seconds_total", m)
        obs.promtool(self, text)
        obs.check_dashboard(self, obs.exported_names(text), sink=False)
        self.stop_ok(ab)
        lines = obs.check_log(self, ab.log(), "json", skip=not_ours)
        self.assertIn("stopped", [r["msg"] for r in lines])

    def test_a_refused_connection_is_logged_once(self):
        """librdkafka logs a failed connection (FAIL) and raises it as an
        error too: only librdkafka's line, which names the client, may
        reach the log at the default level."""
        cfg = self.config([{"topics": ["t"], "integration": "generic"}],
                          "out", "dlq", state={"store": "memory"})
        cfg["kafka"]["brokers"] = "127.0.0.1:%d" % tp.free_port()
        ab = self.alertbridge(cfg)
        ab.start()
        self.wait_for(lambda: ab.log().count("Connection refused") >= 4,
                      "refused connections logged")
        self.stop_ok(ab)
        refused = [obs.parse_logfmt(line) for line in ab.log().splitlines()
                   if "Connection refused" in line]
        self.assertTrue(refused)
        for rec in refused:
            self.assertEqual((rec["comp"], rec.get("fac")), ("rdkafka", "FAIL"),
                             "a refused connection logged twice: %s" % rec)


if __name__ == "__main__":
    sys.exit(tp.main("test_operations"))
