#!/usr/bin/env python3
"""check_container.py - checks the Dockerfile and docker-compose.yml without a Docker engine.

  check_container.py --alertbridge BIN --tools DIR --hadolint HADOLINT

  * hadolint (warnings are failures) passes the Dockerfile, and fails a
    copy that runs as root with an unpinned base image;
  * docker-compose.yml is valid against the Compose specification's JSON
    schema, and a copy with a misspelt key is not;
  * the runtime image runs as a numeric non-root user, has a HEALTHCHECK
    on /healthz at the port its default config listens on, and installs a
    Debian package for every shared library BIN links (dpkg -S on ldd's
    paths), so the image would start;
  * the image's default config and the compose service reach the broker
    by the compose service name, not the container's loopback, and the
    default config passes `alertbridge check-config`;
  * the compose `ingest` service runs the same image with a mounted config
    that passes `alertbridge ingest --check`, reaches the broker by its
    service name, publishes ingest.listen's port and probes /healthz on it.
What cannot be checked here: building and running the image (no Docker
engine, no registry). DIR is what scripts/deploy-tools.sh prints.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import jsonschema
import yaml

import checks
from checks import check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def hadolint(exe, path):
    return subprocess.run([exe, "--no-color", "--failure-threshold", "warning", path],
                          capture_output=True, text=True, check=False)


def runtime_stage(text):
    """The instructions of the last stage, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stage = joined[joined.rindex("\nFROM "):]
    return [ln.strip() for ln in stage.split("\n")
            if ln.strip() and not ln.lstrip().startswith("#")]


def library_packages(binary):
    """Debian packages of the libraries binary links directly, but libc6
    (their own dependencies come with them)."""
    elf = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", elf.stdout)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    where = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd.stdout, re.M))
    pkgs = set()
    for soname in needed:
        path = where.get(soname, "")
        # dpkg knows a file by the path its package ships (/lib or /usr/lib).
        for candidate in (path, path.replace("/usr/lib/", "/lib/", 1),
                          os.path.realpath(path)):
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True,
                                 text=True, check=False)
            if path and out.returncode == 0:
                pkgs.add(out.stdout.split(":")[0])
                break
        else:
            checks.failures.append(f"no Debian package owns {soname} ({path})")
    return pkgs - {"libc6"}


def check_dockerfile(args):
    path = os.path.join(ROOT, "Dockerfile")
    out = hadolint(args.hadolint, path)
    check(out.returncode == 0, f"hadolint Dockerfile:\n{out.stdout}{out.stderr}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile") as bad:
        bad.write(re.sub(r"^USER .*$", "USER root", text, flags=re.M)
                  .replace("FROM debian:bookworm-slim", "FROM debian"))
        bad.flush()
        out = hadolint(args.hadolint, bad.name)
        check(out.returncode != 0 and "DL3002" in out.stdout and "DL3006" in out.stdout,
              f"hadolint passed a Dockerfile running as root from an untagged image:\n{out.stdout}")

    stage = runtime_stage(text)
    users = [ln.split()[1] for ln in stage if ln.startswith("USER ")]
    check(users and re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]),
          f"the runtime image's USER is not a numeric non-root id: {users}")
    cmd = " ".join(stage)
    installed = set(re.findall(r"--no-install-recommends\s+(.*?)&&", cmd)[0].split())
    missing = library_packages(args.alertbridge) - installed
    check(not missing, f"the runtime stage does not install {sorted(missing)}")

    copies = dict(reversed(ln.split()[1:3]) for ln in stage
                  if ln.startswith("COPY ") and "--from" not in ln)
    default = copies.get("/etc/alertbridge/pipeline.yaml")
    check(default, "the image has no default config at /etc/alertbridge/pipeline.yaml")
    health = [ln for ln in stage if ln.startswith("HEALTHCHECK ")]
    if check(health and default, "the runtime image has no HEALTHCHECK"):
        with open(os.path.join(ROOT, default), encoding="utf-8") as f:
            config = yaml.safe_load(f)
        port = config["http"]["listen"].rsplit(":", 1)[1]
        check(f"127.0.0.1:{port}/healthz" in health[0],
              f"the HEALTHCHECK does not GET /healthz on port {port}: {health[0]}")
        check("curl" in installed, "the HEALTHCHECK's curl is not installed")
    return default


def check_compose(args, default):
    with open(os.path.join(args.tools, "compose-spec.json"), encoding="utf-8") as f:
        schema = json.load(f)
    path = os.path.join(ROOT, "docker-compose.yml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    compose = yaml.safe_load(text)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [e.message for e in validator.iter_errors(compose)]
    check(not errors, f"docker-compose.yml: {errors}")
    bad = yaml.safe_load(text.replace("    depends_on:", "    depends-on:", 1))
    check(any(validator.iter_errors(bad)), "the Compose schema accepted a misspelt key")

    services = compose["services"]
    ab = services["alertbridge"]
    host = ab["environment"]["KAFKA_BROKERS"].split(":")[0]
    check(host in services, f"alertbridge reaches the broker at {host}, not a compose service")
    for dep in ab.get("depends_on", {}):
        check(dep in services, f"alertbridge depends on unknown service {dep}")
    mounted = [v.split(":") for v in ab.get("volumes", [])]
    check(any(dst == "/etc/alertbridge/pipeline.yaml" and src == f"./{default}"
              for src, dst, *_ in mounted),
          "compose does not mount the image's default config")

    with open(os.path.join(ROOT, default), encoding="utf-8") as f:
        brokers = yaml.safe_load(f)["kafka"]["brokers"]
    fallback = re.fullmatch(r"\$\{KAFKA_BROKERS:-([^:}]+):\d+\}", brokers)
    check(fallback and fallback.group(1) in services,
          f"{default}: kafka.brokers {brokers} does not default to a compose service")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([args.alertbridge, "check-config", os.path.join(ROOT, default)],
                             cwd=tmp, capture_output=True, text=True, check=False,
                             env={k: v for k, v in os.environ.items() if k != "KAFKA_BROKERS"})
        check(out.returncode == 0, f"{default}: {out.stdout}{out.stderr}")
    check_compose_ingest(args, services)


def check_compose_ingest(args, services):
    ing = services.get("ingest")
    if not check(ing, "docker-compose.yml has no ingest service"):
        return
    check(ing.get("image") == services["alertbridge"].get("image"),
          "the ingest service does not run the alertbridge image")
    check(ing["command"][:1] == ["ingest"], f"the ingest service runs {ing['command']}")
    host = ing["environment"]["KAFKA_BROKERS"].split(":")[0]
    check(host in services, f"ingest reaches the broker at {host}, not a compose service")
    cfg_path = ing["command"][ing["command"].index("--config") + 1]
    mounted = {dst: src for src, dst, *_ in (v.split(":") for v in ing.get("volumes", []))}
    src = mounted.get(cfg_path)
    if not check(src, f"the ingest service does not mount {cfg_path}"):
        return
    path = os.path.join(ROOT, src)
    with open(path, encoding="utf-8") as f:
        port = yaml.safe_load(f)["ingest"]["listen"].rsplit(":", 1)[1]
    check(any(str(p).split(":")[-1] == port for p in ing.get("ports", [])),
          f"the ingest service does not publish ingest.listen's port {port}")
    check(f"http://127.0.0.1:{port}/healthz" in ing.get("healthcheck", {}).get("test", []),
          f"the ingest service's healthcheck does not GET /healthz on port {port}")
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BROKERS"}
    env.update({k: "token" for k in ing["environment"] if k.endswith("_TOKEN")})
    out = subprocess.run([args.alertbridge, "ingest", "--check", "--config", path],
                         capture_output=True, text=True, check=False, env=env)
    check(out.returncode == 0, f"{src}: {out.stdout}{out.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alertbridge", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--hadolint", required=True)
    args = ap.parse_args()
    args.alertbridge = os.path.abspath(args.alertbridge)

    default = check_dockerfile(args)
    if default:
        check_compose(args, default)
    return checks.report("check_container")


if __name__ == "__main__":
    sys.exit(main())
