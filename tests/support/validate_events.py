#!/usr/bin/env python3
"""validate_events.py - checks NDJSON documents against a JSON Schema.

Used by the event_schema and integration_schema tests:

  validate_events.py --schema S [--valid FILE]... [--valid-cmd CMD]...
                     [--invalid FILE]... [--conf2json TOOL]

--valid FILE      every line of FILE (NDJSON) must validate;
--valid-cmd CMD   CMD (split like a shell line) is run and every line it
                  prints must validate; it must exit 0 and print something;
--invalid FILE    every line must be REJECTED (proves the schema can fail);
                  a line may start with "# " to carry a comment, which is
                  skipped;
--conf2json TOOL  instead of NDJSON, FILE arguments are integration config
                  files (YAML or JSON) converted to JSON by TOOL, the
                  project's own config reader, so the schema sees exactly
                  the tree the engine sees.

Exits 0 when every expectation holds, 1 otherwise, 2 when jsonschema is
missing (a missing validator is a failure, never a skip).
"""

import argparse
import json
import shlex
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("validate_events: python3-jsonschema is not installed "
          "(scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(2)


def make_validator(path):
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def ndjson_docs(name, text):
    """Yield (label, document) for each non-blank, non-comment line."""
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("# "):
            continue
        label = "%s:%d" % (name, no)
        try:
            yield label, json.loads(line)
        except json.JSONDecodeError as e:
            yield label, e


def config_docs(tool, path):
    run = subprocess.run([tool, path], capture_output=True, text=True)
    if run.returncode != 0:
        return [(path, ValueError("config reader failed: " +
                                  run.stderr.strip()))]
    return [(path, json.loads(run.stdout))]


def errors_of(validator, doc):
    if isinstance(doc, Exception):
        return ["not JSON: %s" % doc]
    return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "<root>",
                        e.message)
            for e in validator.iter_errors(doc)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--valid", action="append", default=[])
    ap.add_argument("--valid-cmd", action="append", default=[])
    ap.add_argument("--invalid", action="append", default=[])
    ap.add_argument("--conf2json")
    args = ap.parse_args()

    validator = make_validator(args.schema)
    failures = 0
    checked = 0

    def load(path):
        if args.conf2json:
            return config_docs(args.conf2json, path)
        with open(path, encoding="utf-8") as f:
            return list(ndjson_docs(path, f.read()))

    valid_sets = [load(p) for p in args.valid]
    for cmd in args.valid_cmd:
        run = subprocess.run(shlex.split(cmd), capture_output=True, text=True)
        docs = list(ndjson_docs(cmd, run.stdout))
        if run.returncode != 0 or not docs:
            print("FAIL %s: exit %d, %d documents\n%s" %
                  (cmd, run.returncode, len(docs), run.stderr), file=sys.stderr)
            failures += 1
        valid_sets.append(docs)

    for docs in valid_sets:
        for label, doc in docs:
            checked += 1
            errs = errors_of(validator, doc)
            if errs:
                failures += 1
                print("FAIL %s: should be valid:" % label, file=sys.stderr)
                for e in errs:
                    print("    " + e, file=sys.stderr)

    for path in args.invalid:
        docs = load(path)
        if not docs:
            print("FAIL %s: no documents" % path, file=sys.stderr)
            failures += 1
        for label, doc in docs:
            checked += 1
            if isinstance(doc, Exception):
                print("FAIL %s: negative case is unreadable (it must be "
                      "rejected by the schema, not the reader): %s" %
                      (label, doc), file=sys.stderr)
                failures += 1
            elif not errors_of(validator, doc):
                print("FAIL %s: should be rejected but validates" % label,
                      file=sys.stderr)
                failures += 1

    print("validate_events: %d documents checked against %s, %d failures" %
          (checked, args.schema, failures))
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
