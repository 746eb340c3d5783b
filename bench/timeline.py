#!/usr/bin/python3
"""timeline.py - watch one `alertbridge run` over time: output records and
CPU per thread (and the broker's) every interval, then totals.

Where bench_e2e gives one number per run, this shows how a run gets
there: steady progress, or bursts separated by idle gaps (which is how
the librdkafka prefetch stall of docs/performance.md was found). Keep the
benchmark's topics (`bench_e2e ... --keep-topics`) and point this at one
of the configurations bench_e2e wrote; the run gets a fresh group and
output topic so it reads everything from the start.

  bench/timeline.py --config build-bench-release/bench-e2e/alertbridge.r0.yaml \\
      --alertbridge build-bench-release/cli/alertbridge --expect 256173

Needs Debian's python3-confluent-kafka and AB_KAFKA_BROKERS. The broker's
CPU is read from /proc when its process (kafka.Kafka) is found.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time
import uuid

from confluent_kafka import Consumer, TopicPartition

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """{tid: (thread name, user + system ticks)} of process `pid`."""
    out = {}
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(task + "/comm") as f:
                name = f.read().strip()
        except OSError:
            continue  # the thread ended
        out[int(task.rsplit("/", 1)[1])] = (name,
                                            int(fields[11]) + int(fields[12]))
    return out


def broker_pid():
    try:
        found = subprocess.run(["pgrep", "-f", "kafka.Kafka"],
                               capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    return int(found[0]) if found else None


def process_ticks(pid):
    if pid is None:
        return 0
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True,
                    help="an alertbridge config written by bench_e2e")
    ap.add_argument("--alertbridge", required=True)
    ap.add_argument("--expect", type=int, required=True,
                    help="output records (events + dead letters) to wait for")
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--log", default="timeline-alertbridge.log")
    args = ap.parse_args()
    brokers = os.environ.get("AB_KAFKA_BROKERS")
    if not brokers:
        sys.exit("timeline.py: set AB_KAFKA_BROKERS")

    # A fresh group and output topics: the run starts from the beginning.
    tag = "timeline-" + uuid.uuid4().hex[:8]
    with open(args.config) as f:
        text = f.read()
    text = re.sub(r'group: "[^"]*"', 'group: "%s"' % tag, text)
    events = re.search(r'topic: "([^"]*)\.events"', text).group(1)
    events = "%s.%s.events" % (events.rsplit(".", 2)[0], tag)
    dlq = events[:-len("events")] + "dlq"
    text = re.sub(r'(\n  topic: )"[^"]*"', r'\1"%s"' % events, text)
    text = re.sub(r'dead_letter_topic: "[^"]*"',
                  'dead_letter_topic: "%s"' % dlq, text)
    cfg = "%s.%s.yaml" % (args.config, tag)
    with open(cfg, "w") as f:
        f.write(text)

    watch = Consumer({"bootstrap.servers": brokers, "group.id": tag + "-w"})
    kafka = broker_pid()
    with open(args.log, "w") as log:
        proc = subprocess.Popen([args.alertbridge, "run", "--config", cfg],
                                stderr=log)

    def outputs():
        n = 0
        for topic in (events, dlq):
            try:
                n += watch.get_watermark_offsets(TopicPartition(topic, 0),
                                                 timeout=2)[1]
            except Exception:
                # Not created yet, or created after the client cached it as
                # unknown: ask for its metadata so the next query finds it.
                try:
                    watch.list_topics(topic, timeout=1)
                except Exception:
                    pass
        return n

    t0 = time.monotonic()
    prev, prev_b, prev_n = cpu_ticks(proc.pid), process_ticks(kafka), 0
    first = cpu_ticks(proc.pid)
    first_b = prev_b
    done = None
    while time.monotonic() - t0 < args.timeout and proc.poll() is None:
        time.sleep(args.interval)
        n = outputs()
        cur, cur_b = cpu_ticks(proc.pid), process_ticks(kafka)
        threads = " ".join(
            "%s:%d" % (name, ticks - prev.get(tid, (name, 0))[1])
            for tid, (name, ticks) in sorted(cur.items())
            if ticks - prev.get(tid, (name, 0))[1] > 0)
        print("%6.1fs outputs %8d (+%6d) broker:%d %s" %
              (time.monotonic() - t0, n, n - prev_n, cur_b - prev_b, threads))
        sys.stdout.flush()
        prev, prev_b, prev_n = cur, cur_b, n
        if n >= args.expect:
            done = time.monotonic() - t0
            break
    last = cpu_ticks(proc.pid)
    last_b = process_ticks(kafka)
    proc.terminate()
    proc.wait()
    watch.close()
    os.unlink(cfg)
    if done is None:
        sys.exit("timeline.py: %d of %d outputs (see %s)" %
                 (prev_n, args.expect, args.log))
    print("all %d outputs after %.1f s; CPU seconds (ticks/%d) per thread:" %
          (args.expect, done, TICK))
    for tid, (name, ticks) in sorted(last.items()):
        used = ticks - first.get(tid, (name, 0))[1]
        if used:
            print("  %-16s %6.2f%s" % (name, used / TICK,
                                       "  (main)" if tid == proc.pid else ""))
    print("  %-16s %6.2f" % ("broker", (last_b - first_b) / TICK))


if __name__ == "__main__":
    main()
