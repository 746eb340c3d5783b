#!/usr/bin/env python3
"""ce_sdk_check.py - reads alertbridge's Kafka records with the official
CloudEvents Python SDK (cloudevents.kafka), so the CloudEvents Kafka
binding is checked by an implementation other than ours.

  ce_sdk_check.py [--venv DIR] RECORDS.json

RECORDS.json is a list of {"headers": [[name, value], ...], "key": str,
"value": str} (strings are UTF-8 text). Each record is read with
from_structured() when its content-type is application/cloudevents+json,
else with from_binary(); the script prints one JSON object per record
(the event's attributes, extensions included) as a JSON list on stdout,
and exits 1 when the SDK refuses a record.

It re-runs itself in the venv of scripts/sdk-venv.sh (default
$AB_SDK_VENV or .cache/sdk-venv); without it it fails, it never skips.
"""

import argparse
import json
import os
import sys


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", default=os.environ.get(
        "AB_SDK_VENV", os.path.join(root, ".cache", "sdk-venv")))
    ap.add_argument("records")
    args = ap.parse_args()
    if os.path.realpath(sys.prefix) != os.path.realpath(args.venv):
        py = os.path.join(args.venv, "bin", "python")
        if not os.access(py, os.X_OK):
            print("ce_sdk_check: FAIL: SDK venv %s is missing; run "
                  "scripts/sdk-venv.sh first" % args.venv, file=sys.stderr)
            return 1
        os.execv(py, [py, os.path.abspath(__file__), "--venv", args.venv,
                      args.records])
    from cloudevents.kafka import KafkaMessage, from_binary, from_structured

    with open(args.records, encoding="utf-8") as f:
        records = json.load(f)
    out = []
    for r in records:
        headers = {k: v.encode() for k, v in r["headers"]}
        msg = KafkaMessage(headers=headers, key=r["key"],
                           value=r["value"].encode())
        ct = headers.get("content-type", b"").decode()
        try:
            if ct.startswith("application/cloudevents+json"):
                ev = from_structured(msg)
            else:
                ev = from_binary(msg)
        except Exception as e:  # the SDK's refusal is the finding
            print("ce_sdk_check: the SDK refused %r: %s" % (r, e),
                  file=sys.stderr)
            return 1
        out.append({k: v for k, v in ev.get_attributes().items()})
    json.dump(out, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
