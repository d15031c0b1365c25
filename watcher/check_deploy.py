#!/usr/bin/env python3
"""Checks watcher/deploy/*.yaml against the code they deploy, with PyYAML.

Every file parses and each document has apiVersion, kind and a name; the
watcher and heartbeat Deployments run the binary's subcommands with the
flags main.rs implements, mount what those flags name, and are locked down
(non-root, read-only root, no capabilities, probes on the metrics port);
the policy ConfigMap uses only keys svmdr/src/watch/policy.rs knows, and
the config file only keys svmdr/src/site/config.rs knows; every binding
names a role and service account defined here; the object names in RBAC
are the ones the code uses; the alert expressions use only metrics that
check_metrics.py knows. Prints each finding; exits 1 on any.
"""

import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from check_metrics import FAMILIES  # noqa: E402

problems = []
bad = problems.append


def source(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def const(path, name):
    m = re.search(rf'const {name}: &str = "([^"]+)";', source(path))
    if not m:
        bad(f"{path}: no constant {name}")
        return None
    return m.group(1)


def load():
    docs = []
    for name in sorted(os.listdir(os.path.join(HERE, "deploy"))):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(HERE, "deploy", name)
        try:
            with open(path, encoding="utf-8") as f:
                for d in yaml.safe_load_all(f):
                    if d is None:
                        continue
                    docs.append((name, d))
                    meta = d.get("metadata") or {}
                    if not (d.get("apiVersion") and d.get("kind") and meta.get("name")):
                        bad(f"{name}: a document without apiVersion, kind or metadata.name")
        except yaml.YAMLError as e:
            bad(f"{name}: does not parse: {e}")
    return docs


def find(docs, kind, name, namespace=None):
    for f, d in docs:
        m = d.get("metadata", {})
        if d.get("kind") == kind and m.get("name") == name and (namespace is None or m.get("namespace") == namespace):
            return f, d
    bad(f"no {kind} {namespace + '/' if namespace else ''}{name}")
    return None, None


def flag(args, name):
    if name not in args:
        return None
    i = args.index(name)
    return args[i + 1] if i + 1 < len(args) else None


def mounts(pod, container):
    """mountPath -> the volume's source (configMap/secret name)."""
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    out = {}
    for m in container.get("volumeMounts", []):
        v = vols.get(m["name"], {})
        src = (v.get("configMap") or {}).get("name") or (v.get("secret") or {}).get("secretName")
        out[m["mountPath"]] = src
    return out


def locked_down(what, pod, c):
    psc, sc = pod.get("securityContext", {}), c.get("securityContext", {})
    if not psc.get("runAsNonRoot"):
        bad(f"{what}: runAsNonRoot is not set")
    if not sc.get("readOnlyRootFilesystem"):
        bad(f"{what}: readOnlyRootFilesystem is not set")
    if sc.get("allowPrivilegeEscalation") is not False:
        bad(f"{what}: allowPrivilegeEscalation is not false")
    if (sc.get("capabilities") or {}).get("drop") != ["ALL"]:
        bad(f"{what}: capabilities are not drop: [ALL]")
    env = {e["name"]: e for e in c.get("env", [])}
    pod_name = env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if pod_name != "metadata.name":
        bad(f"{what}: env POD_NAME is not the downward API's metadata.name")
    mem = (c.get("resources", {}).get("limits") or {}).get("memory")
    if not mem:
        bad(f"{what}: no memory limit")


def check_watcher(docs):
    _, dep = find(docs, "Deployment", "svmdr-watcher", "svmdr")
    if not dep:
        return
    if dep["spec"].get("replicas") != 2:
        bad("svmdr-watcher: replicas is not 2")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = c.get("args", [])
    expected = {
        "--config": "/etc/svmdr/config.yaml",
        "--namespace": "svmdr",
        "--witness-kubeconfig": "/etc/svmdr-witness/kubeconfig",
        "--witness-namespace": "svmdr-witness",
        "--listen": "0.0.0.0:9090",
        "--identity": "$(POD_NAME)",
    }
    if not args or args[0] != "run":
        bad("svmdr-watcher: the first argument is not the subcommand run")
    for k, v in expected.items():
        if flag(args, k) != v:
            bad(f"svmdr-watcher: {k} is {flag(args, k)!r}, expected {v!r}")
    if pod.get("serviceAccountName") != "svmdr-watcher":
        bad("svmdr-watcher: serviceAccountName is not svmdr-watcher")
    locked_down("svmdr-watcher", pod, c)
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    if ports.get("metrics") != 9090:
        bad("svmdr-watcher: no container port metrics: 9090")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        g = c.get(probe, {}).get("httpGet", {})
        if g.get("path") != path or g.get("port") not in ("metrics", 9090):
            bad(f"svmdr-watcher: {probe} is not GET {path} on the metrics port")
    m = mounts(pod, c)
    if m.get("/etc/svmdr") != "svmdr-watcher-config":
        bad("svmdr-watcher: /etc/svmdr is not the ConfigMap svmdr-watcher-config")
    if not m.get("/etc/svmdr-witness"):
        bad("svmdr-watcher: nothing mounted at /etc/svmdr-witness")
    _, cm = find(docs, "ConfigMap", "svmdr-watcher-config", "svmdr")
    if cm:
        check_config(cm, m)
    _, svc = find(docs, "Service", "svmdr-watcher", "svmdr")
    if svc and not any(p.get("name") == "metrics" and p.get("port") == 9090 for p in svc["spec"]["ports"]):
        bad("Service svmdr-watcher: no port metrics: 9090")


def check_config(cm, mounted):
    """config.yaml: the CLI's config file; each kubeconfig it names is mounted."""
    text = cm.get("data", {}).get("config.yaml")
    if text is None:
        bad("svmdr-watcher-config: no key config.yaml")
        return
    cfg = yaml.safe_load(text)
    fields = set(re.findall(r"pub (\w+): ", source("svmdr/src/site/config.rs").split("pub struct SiteConfig")[1].split("}")[0]))
    # camelCase, except the one field renamed by hand.
    fields.discard("insecure_skip_tls_verify")
    camel = {re.sub(r"_(\w)", lambda x: x.group(1).upper(), f) for f in fields} | {"insecureSkipTLSVerify"}
    for site in ("primary", "dr"):
        s = cfg.get(site)
        if not isinstance(s, dict):
            bad(f"config.yaml: no {site} site")
            continue
        for k in s:
            if k not in camel:
                bad(f"config.yaml: {site}.{k} is not a key of the config file ({sorted(camel)})")
        kc = s.get("kubeconfig")
        if kc and os.path.dirname(kc) not in mounted:
            bad(f"config.yaml: {site}.kubeconfig {kc} is not in a mounted directory")
        if kc and kc.startswith("/etc/svmdr/") and os.path.basename(kc) not in cm.get("data", {}):
            bad(f"config.yaml: {site}.kubeconfig {kc} is not a key of svmdr-watcher-config")


def check_heartbeat(docs):
    _, dep = find(docs, "Deployment", "svmdr-heartbeat", "svmdr")
    if not dep:
        return
    if dep["spec"].get("replicas") != 1:
        bad("svmdr-heartbeat: replicas is not 1")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = c.get("args", [])
    if not args or args[0] != "heartbeat":
        bad("svmdr-heartbeat: the first argument is not the subcommand heartbeat")
    for k, v in {
        "--witness-kubeconfig": "/etc/svmdr-witness/kubeconfig",
        "--witness-namespace": "svmdr-witness",
        "--identity": "$(POD_NAME)",
        "--every": "10s",
    }.items():
        if flag(args, k) != v:
            bad(f"svmdr-heartbeat: {k} is {flag(args, k)!r}, expected {v!r}")
    locked_down("svmdr-heartbeat", pod, c)
    if not mounts(pod, c).get("/etc/svmdr-witness"):
        bad("svmdr-heartbeat: nothing mounted at /etc/svmdr-witness")


def check_policy(docs):
    policy_name = const("svmdr/src/watch/policy.rs", "POLICY_CONFIGMAP")
    _, cm = find(docs, "ConfigMap", policy_name, "svmdr")
    if not cm:
        return
    block = source("svmdr/src/watch/policy.rs").split("const KEYS: &[&str] = &[")[1].split("];")[0]
    keys = set(re.findall(r'"(\w+)"', block))
    data = cm.get("data", {})
    for k in sorted(set(data) - keys):
        bad(f"{policy_name}: key {k} is not a policy key ({sorted(keys)})")
    if data.get("mode") != "observe":
        bad(f"{policy_name}: the example's mode is not observe")
    for k, v in data.items():
        if not isinstance(v, str):
            bad(f"{policy_name}: {k} is not a string (ConfigMap data must be)")


def check_rbac(docs):
    roles = {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace")) for _, d in docs if d["kind"] in ("Role", "ClusterRole")}
    sas = {(d["metadata"]["name"], d["metadata"].get("namespace")) for _, d in docs if d["kind"] == "ServiceAccount"}
    for f, d in docs:
        if d["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        ref = d["roleRef"]
        ns = d["metadata"].get("namespace") if ref["kind"] == "Role" else None
        if (ref["kind"], ref["name"], ns) not in roles:
            bad(f"{f}: {d['kind']} {d['metadata']['name']} refers to a missing {ref['kind']} {ref['name']}")
        for s in d.get("subjects", []):
            if s.get("kind") == "ServiceAccount" and (s["name"], s.get("namespace")) not in sas:
                bad(f"{f}: {d['metadata']['name']} binds a missing ServiceAccount {s.get('namespace')}/{s['name']}")
    names = set()
    for _, d in docs:
        for r in d.get("rules", []) if d["kind"] in ("Role", "ClusterRole") else []:
            names.update(r.get("resourceNames", []))
    for path, name in (
        ("svmdr/src/watch/witness.rs", "DEFAULT_LEASE"),
        ("svmdr/src/status/watcher.rs", "STATUS_CONFIGMAP"),
        ("svmdr/src/watch/policy.rs", "POLICY_CONFIGMAP"),
        ("svmdr/src/audit/trail.rs", "HISTORY_CONFIGMAP"),
    ):
        value = const(path, name)
        if value and value not in names:
            bad(f"RBAC: no rule names {value} ({path} {name})")
    if "svmdr-watcher-leader" not in names:
        bad("RBAC: no rule names the leader Lease svmdr-watcher-leader")


def check_alerts(docs):
    known = set()
    for name, (kind, _, _) in FAMILIES.items():
        known |= {name + "_total"} if kind == "counter" else {name}
        if kind == "histogram":
            known |= {name + s for s in ("_bucket", "_count", "_sum")}
    rules = [r for _, d in docs if d["kind"] == "PrometheusRule" for g in d["spec"]["groups"] for r in g["rules"]]
    if not rules:
        bad("no PrometheusRule with rules")
    for r in rules:
        for m in re.findall(r"\bsvmdr_\w+", r["expr"]):
            if m not in known:
                bad(f"alert {r.get('alert')}: {m} is not a metric the watcher exports")
        if not r.get("labels", {}).get("severity"):
            bad(f"alert {r.get('alert')}: no severity label")
    wanted = {
        "svmdr_relationship_rpo_exceeded", "svmdr_backup_stale", "svmdr_site_reachable",
        "svmdr_witness_fresh", "svmdr_witness_reachable", "svmdr_partition_suspected",
        "svmdr_page", "svmdr_failovers_total", "svmdr_leader",
    }
    used = {m for r in rules for m in re.findall(r"\bsvmdr_\w+", r["expr"])}
    for m in sorted(wanted - used):
        bad(f"no alert on {m}")


def main():
    docs = load()
    check_watcher(docs)
    check_heartbeat(docs)
    check_policy(docs)
    check_rbac(docs)
    check_alerts(docs)
    for p in problems:
        print(f"FAIL  {p}")
    if problems:
        print(f"check-deploy: FAIL ({len(problems)} problems)")
        return 1
    print(f"check-deploy: OK ({len(docs)} documents)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
