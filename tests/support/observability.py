"""observability.py - checks the integration tests share for what operators
read: log lines (a strict logfmt parser, JSON), the /metrics exposition
(promtool) and the Grafana dashboard's PromQL expressions."""

import json
import os
import re
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DASHBOARD = os.path.join(REPO, "deploy", "grafana", "alertbridge.json")

# ---- logs

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_BARE = re.compile(r'[^\s"=\\]*')
_QUOTED = re.compile(r'"((?:[^"\\\x00-\x1f]|\\["\\nt])*)"')


def parse_logfmt(line):
    """One logfmt line -> dict, strictly: `key=value` pairs separated by
    single spaces; a value is bare (no space, quote, '=' or backslash) or
    double-quoted with only \\" \\\\ \\n \\t escapes; no key twice.
    Raises ValueError naming the first offence."""
    out = {}
    i = 0
    while i < len(line):
        m = _KEY.match(line, i)
        if not m or m.end() >= len(line) or line[m.end()] != "=":
            raise ValueError("expected key= at column %d: %r" % (i, line))
        key = m.group(0)
        i = m.end() + 1
        if line.startswith('"', i):
            m = _QUOTED.match(line, i)
            if not m:
                raise ValueError("bad quoted value of %s: %r" % (key, line))
            value = re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(
                e.group(1), e.group(1)), m.group(1))
        else:
            m = _BARE.match(line, i)
            value = m.group(0)
        if key in out:
            raise ValueError("key %s twice: %r" % (key, line))
        out[key] = value
        i = m.end()
        if i < len(line):
            if line[i] != " " or i + 1 == len(line):
                raise ValueError("expected one space at column %d: %r" %
                                 (i, line))
            i += 1
    return out


def parse_json_line(line):
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("not an object: %r" % line)
    return obj


def check_log(test, text, fmt, skip=lambda line: False):
    """Every line of `text` (a process's stderr) parses in `fmt` ("logfmt"
    or "json") and has ts, level, comp and msg. Returns the parsed lines."""
    parse = parse_logfmt if fmt == "logfmt" else parse_json_line
    lines = []
    for line in text.splitlines():
        if skip(line):
            continue
        try:
            rec = parse(line)
        except ValueError as e:
            test.fail("log line is not valid %s: %s" % (fmt, e))
        for key in ("ts", "level", "comp", "msg"):
            test.assertIn(key, rec, "%s line without %s: %r" % (fmt, key, line))
        lines.append(rec)
    test.assertTrue(lines, "no log lines")
    return lines

# ---- metrics


def promtool(test, text):
    """`promtool check metrics` accepts the exposition `text` without any
    complaint (syntax and the Prometheus naming conventions)."""
    exe = shutil.which("promtool")
    test.assertIsNotNone(exe, "promtool not found (Debian package "
                         "prometheus, scripts/install-deps.sh)")
    r = subprocess.run([exe, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    test.assertEqual((r.returncode, r.stdout.decode()), (0, ""),
                     "promtool check metrics")


def exported_names(text):
    """The sample names an exposition declares or carries: every family of
    a TYPE line (a labelled family may have no series yet), with `_bucket`,
    `_sum` and `_count` for histograms, and every sample's name."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "histogram":
                names |= {m.group(1) + s for s in ("_bucket", "_sum",
                                                     "_count")}
        elif line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names

# ---- the dashboard

# PromQL words that are not metric names.
_PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "inf", "nan",
}


def dashboard_expressions(path=DASHBOARD):
    """Every PromQL expression of the dashboard: panel targets (rows'
    nested panels too) and query variables."""
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    exprs = []

    def panels(ps):
        for p in ps:
            for t in p.get("targets", []):
                if t.get("expr"):
                    exprs.append(t["expr"])
            panels(p.get("panels", []))
    panels(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if v.get("type") == "query" and q:
            q = q.get("query", "") if isinstance(q, dict) else q
            m = re.match(r"\s*label_values\((.*),\s*\w+\)\s*$", q)
            exprs.append(m.group(1) if m else q)
    return exprs


def expression_metrics(expr):
    """The metric names an expression selects."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)   # strings
    s = re.sub(r"\{[^}]*\}", " ", s)                # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)               # ranges, subqueries
    s = re.sub(r"\$\{?\w+\}?", " ", s)              # Grafana variables
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*"
               r"\([^)]*\)", " ", s)                # groupings
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        word = m.group(0)
        rest = s[m.end():].lstrip()
        if rest.startswith("("):
            continue                                # a function
        if word.lower() in _PROMQL_WORDS:
            continue
        if re.match(r"[0-9.]", s[m.start() - 1:m.start()] or " "):
            continue                                # 5m, 1e3
        names.add(word)
    return names


def dashboard_metrics(path=DASHBOARD):
    names = set()
    for e in dashboard_expressions(path):
        names |= expression_metrics(e)
    return names


def check_dashboard(test, exported, sink):
    """Every metric the dashboard names is in `exported` (sample names of
    a real scrape): the `alertbridge_sink_` ones when `sink` is true, all
    the others otherwise (the pipeline's, build info, process metrics)."""
    names = dashboard_metrics()
    test.assertTrue(names, "the dashboard names no metric")
    mine = {n for n in names if n.startswith("alertbridge_sink_") == sink}
    test.assertTrue(mine, "the dashboard names no %s metric" %
                    ("sink" if sink else "pipeline"))
    test.assertEqual(sorted(mine - exported), [],
                     "dashboard metrics the binary does not export")
