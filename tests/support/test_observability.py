"""test_observability.py - unit tests of observability.py, the checkers
the integration tests apply to logs, /metrics and the dashboard: each must
reject what it exists to catch."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import observability as obs  # noqa: E402


class Logfmt(unittest.TestCase):
    def test_our_lines_parse(self):
        rec = obs.parse_logfmt(
            'ts=2026-01-01T00:00:00.000Z level=warn comp=sink '
            'msg="a \\"quoted\\" word\\nnext" pending=3 path= x=a.b-c')
        self.assertEqual(rec["msg"], 'a "quoted" word\nnext')
        self.assertEqual(rec["pending"], "3")
        self.assertEqual(rec["path"], "")

    def test_prose_after_a_value_is_rejected(self):
        # The sink's shutdown warning before it was fixed.
        with self.assertRaises(ValueError):
            obs.parse_logfmt(
                'ts=x level=warn comp=sink msg="shutdown with events in '
                'flight" pending=3 (their records are not committed and '
                'will be consumed again)')

    def test_other_offences_are_rejected(self):
        for line in ('a=1  b=2', 'a=1 a=2', 'a="open', 'a=x"y', 'a=1 ',
                     '=1', 'a b=1', 'a="tab\there"'):
            with self.assertRaises(ValueError, msg=line):
                obs.parse_logfmt(line)


class Promql(unittest.TestCase):
    def test_names_not_functions_labels_or_variables(self):
        e = ('histogram_quantile(0.99, sum by (le, integration) (rate('
             'alertbridge_x_bucket{job=~"$job", code="a b"}[5m]))) / on '
             '(instance) group_left time() - process_start_time_seconds '
             'offset 1h')
        self.assertEqual(obs.expression_metrics(e),
                         {"alertbridge_x_bucket", "process_start_time_seconds"})

    def test_a_wrong_name_fails_the_dashboard_check(self):
        class Probe(unittest.TestCase):
            def runTest(self):
                pass
        exported = obs.dashboard_metrics()
        probe = Probe()
        obs.check_dashboard(probe, exported, sink=False)
        obs.check_dashboard(probe, exported, sink=True)
        wrong = {n for n in exported if n != "alertbridge_open_alerts"}
        with self.assertRaises(AssertionError):
            obs.check_dashboard(probe, wrong, sink=False)


if __name__ == "__main__":
    unittest.main()
