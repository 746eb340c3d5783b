#!/usr/bin/env python3
"""check_kubernetes.py - validates deploy/kubernetes/ without a cluster.

  check_kubernetes.py --alertbridge BIN --tools DIR

  * kubeconform (strict: unknown fields are errors) against the Kubernetes
    JSON schemas of the oldest and the newest supported release, every
    resource valid and none skipped; mutated copies (an unknown field, a
    wrong type) must be rejected, so a validator that loaded no schema
    cannot pass;
  * kustomization.yaml lists every manifest of the directory;
  * the operational rules kubeconform cannot see: non-root (the image's
    numeric user), read-only root filesystem, no privilege escalation,
    probes on /healthz and /readyz at the configured port, resources,
    static membership from the pod name (the StatefulSets), Services and
    PodDisruptionBudgets selecting their pods, mounted ConfigMaps that
    exist, webhook tokens only from a Secret (the ingest Deployment);
    and each rule must catch a manifest mutated to break it;
  * the ConfigMap's files pass `alertbridge check-config`, and its copy of
    the example integration matches examples/integrations/.
DIR is what scripts/deploy-tools.sh prints. Exit 0 when all holds.
"""

import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

import checks
from checks import check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KDIR = os.path.join(ROOT, "deploy", "kubernetes")
VERSIONS = ("1.29.0", "1.37.0")
# name: (kind, its config file, the config's section with `listen`).
WORKLOADS = {
    "alertbridge-run": ("StatefulSet", "pipeline.yaml", "http"),
    "alertbridge-sink": ("StatefulSet", "sink.yaml", "http"),
    "alertbridge-ingest": ("Deployment", "ingest.yaml", "ingest"),
}


def kubeconform(tools, version, files):
    """Returns kubeconform's per-resource results for files."""
    loc = os.path.join(tools, "schemas",
                       "{{ .NormalizedKubernetesVersion }}-standalone"
                       "{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json")
    out = subprocess.run(
        [os.path.join(tools, "bin", "kubeconform"), "-strict", "-output", "json",
         "-verbose", "-kubernetes-version", version, "-schema-location", loc,
         *files], capture_output=True, text=True, check=False)
    return json.loads(out.stdout)["resources"]


def manifests():
    return sorted(f for f in glob.glob(os.path.join(KDIR, "*.yaml"))
                  if os.path.basename(f) != "kustomization.yaml")


def check_schemas(tools):
    files = manifests()
    for v in VERSIONS:
        res = kubeconform(tools, v, files)
        kinds = sorted(r["kind"] for r in res)
        check(kinds == sorted(["ConfigMap"] * 2 + ["Service"] * 3 + ["StatefulSet"] * 2 +
                              ["Deployment"] + ["PodDisruptionBudget"] * 3),
              f"kubernetes {v}: unexpected resources {kinds}")
        for r in res:
            check(r["status"] == "statusValid",
                  f"kubernetes {v}: {r['kind']}/{r['name']}: {r['status']} {r.get('msg', '')}")
    # The validator must reject broken manifests: an unknown field and a
    # wrong type, each in a copy of run.yaml.
    with open(os.path.join(KDIR, "run.yaml"), encoding="utf-8") as f:
        text = f.read()
    for mutation, (old, new) in {
            "unknown field": ("  replicas: 2", "  replica: 2"),
            "wrong type": ("readOnlyRootFilesystem: true", 'readOnlyRootFilesystem: "yes"'),
    }.items():
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as bad:
            bad.write(text.replace(old, new, 1))
            bad.flush()
            res = kubeconform(tools, VERSIONS[-1], [bad.name])
            sts = [r for r in res if r["kind"] == "StatefulSet"]
            check(len(sts) == 1 and sts[0]["status"] == "statusInvalid",
                  f"a StatefulSet with a {mutation} was not rejected: {sts}")


def load_all():
    docs = []
    for f in manifests():
        with open(f, encoding="utf-8") as fh:
            docs += [d for d in yaml.safe_load_all(fh) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def subset(sel, labels):
    return all(labels.get(k) == v for k, v in sel.items())


def dockerfile_uid():
    with open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8") as f:
        users = re.findall(r"^USER\s+(\d+)", f.read(), re.M)
    return int(users[-1]) if users else None


def check_tokens(name, config, pod, env):
    """Every webhook token is a ${VAR} set from a Secret, or a token_file
    on a mounted Secret: never a literal in the ConfigMap."""
    (c,) = pod["containers"]
    secrets = {v["name"] for v in pod["volumes"] if "secret" in v}
    secret_dirs = [m["mountPath"] for m in c["volumeMounts"] if m["name"] in secrets]
    for integ in (config.get("ingest") or {}).get("integrations", []):
        for tok in integ.get("tokens", []):
            var = re.fullmatch(r"\$\{(\w+)\}", tok)
            ref = env.get(var.group(1), {}) if var else {}
            check(var and "secretKeyRef" in ref.get("valueFrom", {}),
                  f"{name}: a token of {integ['name']} is not a ${{VAR}} from a Secret")
        tf = integ.get("token_file")
        check(not tf or any(tf.startswith(d + "/") for d in secret_dirs),
              f"{name}: token_file {tf} of {integ['name']} is not on a mounted Secret")


def check_workload(objs, name, kind, config_file, section):
    sts = objs.get((kind, name))
    if not check(sts, f"no {kind} {name}"):
        return
    labels = sts["spec"]["template"]["metadata"]["labels"]
    check(subset(sts["spec"]["selector"]["matchLabels"], labels),
          f"{name}: selector does not match its pods")
    pod = sts["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, f"{name}: runAsNonRoot not set")
    check(psc.get("runAsUser") == dockerfile_uid() and psc.get("runAsUser"),
          f"{name}: runAsUser {psc.get('runAsUser')} is not the image's USER {dockerfile_uid()}")
    check(pod.get("automountServiceAccountToken") is False,
          f"{name}: the service account token is mounted")
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, f"{name}: root filesystem writable")
    check(sc.get("allowPrivilegeEscalation") is False, f"{name}: privilege escalation allowed")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: capabilities kept")
    res = c.get("resources", {})
    check({"cpu", "memory"} <= set(res.get("requests", {})), f"{name}: no cpu/memory requests")
    check("memory" in res.get("limits", {}), f"{name}: no memory limit")

    # The config file the container runs, from the ConfigMap it mounts.
    args = c["args"]
    cfg_path = args[args.index("--config") + 1]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    for m in mounts.values():
        cm = vols[m["name"]].get("configMap")
        if cm:
            check(("ConfigMap", cm["name"]) in objs, f"{name}: mounts missing ConfigMap {cm['name']}")
            check("subPath" not in m, f"{name}: subPath mounts miss ConfigMap updates")
    mount = mounts.get(os.path.dirname(cfg_path))
    cm = vols[mount["name"]]["configMap"]["name"] if mount else None
    check(os.path.basename(cfg_path) == config_file and cm,
          f"{name}: --config {cfg_path} is not a mounted {config_file}")
    config = yaml.safe_load(objs[("ConfigMap", cm)]["data"][config_file]) if cm else {}

    port = int(config.get(section, {}).get("listen", ":0").rsplit(":", 1)[1])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and ports.get(get.get("port")) == port,
              f"{name}: {probe} is not GET {path} on the listen port {port}")
    env = {e["name"]: e for e in c.get("env", [])}
    check_tokens(name, config, pod, env)
    if kind == "StatefulSet":
        check(config.get("kafka", {}).get("instance_id") == "${POD_NAME}" and
              env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {})
              .get("fieldPath") == "metadata.name",
              f"{name}: kafka.instance_id is not the pod name")
        svc = objs.get(("Service", sts["spec"]["serviceName"]))
        check(svc and svc["spec"].get("clusterIP") == "None" and
              subset(svc["spec"]["selector"], labels),
              f"{name}: no headless Service selecting it")
    else:
        # Stateless: a load-balanced Service to its port; a Deployment's
        # pod names change, so a static member id would be wrong.
        check("instance_id" not in config.get("kafka", {}),
              f"{name}: kafka.instance_id set for a Deployment")
        svc = objs.get(("Service", name))
        check(svc and svc["spec"].get("clusterIP") != "None" and
              subset(svc["spec"]["selector"], labels) and
              any(ports.get(p.get("targetPort")) == port for p in svc["spec"]["ports"]),
              f"{name}: no load-balanced Service selecting it on port {port}")
    pdb = objs.get(("PodDisruptionBudget", name))
    check(pdb and subset(pdb["spec"]["selector"]["matchLabels"], labels),
          f"{name}: no PodDisruptionBudget selecting it")


def rules(objs):
    """The failures of the operational rules on objs."""
    saved, checks.failures = checks.failures, []
    for name, (kind, config_file, section) in WORKLOADS.items():
        check_workload(objs, name, kind, config_file, section)
    found, checks.failures = checks.failures, saved
    return found


def container(objs, name):
    return objs[(WORKLOADS[name][0], name)]["spec"]["template"]["spec"]["containers"][0]


def set_config(objs, key, old, new):
    data = objs[("ConfigMap", "alertbridge-config")]["data"]
    data[key] = data[key].replace(old, new)


# Each rule must catch a manifest broken for it: (what is broken, how,
# the words of the failure expected).
MUTATIONS = [
    ("a writable root filesystem",
     lambda o: container(o, "alertbridge-run")["securityContext"].pop("readOnlyRootFilesystem"),
     "root filesystem writable"),
    ("root",
     lambda o: o[("StatefulSet", "alertbridge-sink")]["spec"]["template"]["spec"]
     ["securityContext"].update(runAsUser=0),
     "runAsUser 0"),
    ("readiness on /healthz",
     lambda o: container(o, "alertbridge-run")["readinessProbe"]["httpGet"].update(path="/healthz"),
     "readinessProbe"),
    ("a probe on another port than http.listen",
     lambda o: set_config(o, "sink.yaml", "0.0.0.0:9465", "0.0.0.0:9999"),
     "livenessProbe"),
    ("a fixed instance_id",
     lambda o: set_config(o, "pipeline.yaml", "${POD_NAME}", "member-1"),
     "instance_id"),
    ("a PodDisruptionBudget selecting other pods",
     lambda o: o[("PodDisruptionBudget", "alertbridge-run")]["spec"]["selector"]
     ["matchLabels"].update({"app.kubernetes.io/component": "sink"}),
     "no PodDisruptionBudget"),
    ("no memory limit",
     lambda o: container(o, "alertbridge-sink")["resources"]["limits"].pop("memory"),
     "no memory limit"),
    ("an ingest readiness probe on /healthz",
     lambda o: container(o, "alertbridge-ingest")["readinessProbe"]["httpGet"]
     .update(path="/healthz"),
     "alertbridge-ingest: readinessProbe"),
    ("an ingest probe on another port than ingest.listen",
     lambda o: set_config(o, "ingest.yaml", "0.0.0.0:8080", "0.0.0.0:8081"),
     "alertbridge-ingest: livenessProbe"),
    ("an ingest Service selecting other pods",
     lambda o: o[("Service", "alertbridge-ingest")]["spec"]["selector"]
     .update({"app.kubernetes.io/component": "run"}),
     "no load-balanced Service"),
    ("an ingest PodDisruptionBudget selecting other pods",
     lambda o: o[("PodDisruptionBudget", "alertbridge-ingest")]["spec"]["selector"]
     ["matchLabels"].update({"app.kubernetes.io/component": "run"}),
     "alertbridge-ingest: no PodDisruptionBudget"),
    ("an ingest container with privilege escalation",
     lambda o: container(o, "alertbridge-ingest")["securityContext"]
     .update(allowPrivilegeEscalation=True),
     "alertbridge-ingest: privilege escalation"),
    ("a literal webhook token in the ConfigMap",
     lambda o: set_config(o, "ingest.yaml", "${AM_WEBHOOK_TOKEN}", "s3cret"),
     "is not a ${VAR} from a Secret"),
    ("a webhook token from a literal env value",
     lambda o: next(e for e in container(o, "alertbridge-ingest")["env"]
                    if e["name"] == "AM_WEBHOOK_TOKEN").update(value="s3cret", valueFrom={}),
     "is not a ${VAR} from a Secret"),
]


def check_rules(objs):
    checks.failures.extend(rules(objs))
    for what, mutate, expected in MUTATIONS:
        broken = copy.deepcopy(objs)
        mutate(broken)
        found = rules(broken)
        check(any(expected in f for f in found),
              f"the rules passed a manifest with {what}: {found}")


def check_configs(objs, alertbridge):
    data = objs[("ConfigMap", "alertbridge-config")]["data"]
    integrations = objs[("ConfigMap", "alertbridge-integrations")]["data"]
    with open(os.path.join(ROOT, "examples", "integrations", "network-monitor.yaml"),
              encoding="utf-8") as f:
        check(integrations.get("network-monitor.yaml") == f.read(),
              "alertbridge-integrations: network-monitor.yaml differs from examples/integrations/")
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "integrations"))
        for key, text in integrations.items():
            with open(os.path.join(tmp, "integrations", key), "w", encoding="utf-8") as f:
                f.write(text)
        env = dict(os.environ, KAFKA_BROKERS="kafka:9092", POD_NAME="alertbridge-run-0",
                   ALIBABA_CLOUD_ACCESS_KEY_ID="id", ALIBABA_CLOUD_ACCESS_KEY_SECRET="secret",
                   AM_WEBHOOK_TOKEN="am-token", NETWORK_WEBHOOK_TOKEN="net-token")
        for key, text in data.items():
            path = os.path.join(tmp, key)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace("/etc/alertbridge/integrations/",
                                     os.path.join(tmp, "integrations") + "/"))
            out = subprocess.run([alertbridge, "check-config", path], env=env,
                                 capture_output=True, text=True, check=False)
            check(out.returncode == 0, f"alertbridge-config {key}: {out.stdout}{out.stderr}")
            if key == "ingest.yaml":
                # Also what a start reads: the integrations of `validate`.
                out = subprocess.run([alertbridge, "ingest", "--check", "--config", path],
                                     env=env, capture_output=True, text=True, check=False)
                check(out.returncode == 0,
                      f"alertbridge-config {key}: ingest --check: {out.stdout}{out.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alertbridge", required=True)
    ap.add_argument("--tools", required=True)
    args = ap.parse_args()

    check_schemas(args.tools)
    with open(os.path.join(KDIR, "kustomization.yaml"), encoding="utf-8") as f:
        listed = sorted(yaml.safe_load(f)["resources"])
    check(listed == [os.path.basename(m) for m in manifests()],
          f"kustomization.yaml lists {listed}")
    objs = load_all()
    check_rules(objs)
    check_configs(objs, args.alertbridge)

    return checks.report("check_kubernetes")


if __name__ == "__main__":
    sys.exit(main())
