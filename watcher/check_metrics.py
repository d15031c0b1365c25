#!/usr/bin/env python3
"""Judges svmdr-watcher's /metrics with the Prometheus project's own Python
parsers (prometheus_client.openmetrics.parser, then the classic text parser).

Usage: check_metrics.py URL|FILE|- [--allow-absent FAMILY ...]

Checks that every svmdr_ family of the watcher is present with its type and
exact label names, that no other svmdr_ family exists, that counters are
sampled as *_total, 0/1 gauges hold 0 or 1, exactly one verdict and one
mode are current, the histogram is complete, and the text ends in # EOF.
Exits 0 when all holds, 1 on any mismatch (each printed), 2 when the input
cannot be read or parsed at all.
"""

import argparse
import math
import sys
import urllib.request

from prometheus_client import parser as classic
from prometheus_client.openmetrics import parser as openmetrics

OPENMETRICS = "application/openmetrics-text"
PAIR = ["source_svm", "destination_svm", "source_cluster", "destination_cluster"]

# family -> (type, label names, values are 0/1)
FAMILIES = {
    "svmdr_relationship_healthy": ("gauge", PAIR, True),
    "svmdr_relationship_state": ("gauge", PAIR + ["state"], True),
    "svmdr_relationship_lag_seconds": ("gauge", PAIR, False),
    "svmdr_relationship_rpo_seconds": ("gauge", PAIR, False),
    "svmdr_relationship_rpo_exceeded": ("gauge", PAIR, True),
    "svmdr_backup_newest_age_seconds": ("gauge", [], False),
    "svmdr_backup_stale": ("gauge", [], True),
    "svmdr_site_reachable": ("gauge", ["site", "api"], True),
    "svmdr_peer_view_available": ("gauge", [], True),
    "svmdr_witness_reachable": ("gauge", [], True),
    "svmdr_witness_renewal_age_seconds": ("gauge", [], False),
    "svmdr_witness_fresh": ("gauge", [], True),
    "svmdr_leader": ("gauge", [], True),
    "svmdr_watcher_armed": ("gauge", [], True),
    "svmdr_watcher_mode": ("gauge", ["mode"], True),
    "svmdr_verdict": ("gauge", ["verdict"], True),
    "svmdr_partition_suspected": ("gauge", [], True),
    "svmdr_page": ("gauge", [], True),
    "svmdr_decisions": ("counter", ["verdict", "action"], False),
    "svmdr_failovers": ("counter", ["outcome"], False),
    "svmdr_observations": ("counter", ["result"], False),
    "svmdr_observation_duration_seconds": ("histogram", [], False),
}

VERDICTS = {
    "starting", "healthy", "degraded", "primary-unreachable", "partition",
    "no-quorum", "primary-lost", "failed-over",
}
MODES = {"observe", "notify", "automatic"}
ACTIONS = {"none", "alert", "page", "failover"}
SITES = {("primary", "ontap"), ("primary", "kubernetes"), ("dr", "ontap"), ("dr", "kubernetes")}


def read(source):
    """The exposition text, and its content type when served over HTTP."""
    if source.startswith(("http://", "https://")):
        req = urllib.request.Request(source, headers={"Accept": OPENMETRICS})
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.read().decode("utf-8"), resp.headers.get("Content-Type", "")
    if source == "-":
        return sys.stdin.read(), None
    with open(source, encoding="utf-8") as f:
        return f.read(), None


def check(text, content_type, allow_absent):
    problems = []
    bad = problems.append
    if content_type is not None and not content_type.startswith(OPENMETRICS):
        bad(f"Content-Type is {content_type!r}, expected {OPENMETRICS}; version=1.0.0")
    if not text.endswith("# EOF\n"):
        bad("the exposition does not end with '# EOF'")
    families = {f.name: f for f in openmetrics.text_string_to_metric_families(text)}
    for name in sorted(set(families) - set(FAMILIES)):
        if name.startswith("svmdr_"):
            bad(f"{name}: unexpected family (add it to check_metrics.py and the docs)")
    for name, (kind, labels, binary) in FAMILIES.items():
        fam = families.get(name)
        if fam is None:
            if name not in allow_absent:
                bad(f"{name}: family missing")
            continue
        if fam.type != kind:
            bad(f"{name}: type {fam.type}, expected {kind}")
            continue
        for s in fam.samples:
            got = sorted(k for k in s.labels if not (kind == "histogram" and k == "le"))
            if got != sorted(labels):
                bad(f"{s.name}{s.labels}: labels {got}, expected {sorted(labels)}")
            if kind == "counter" and not s.name.endswith(("_total", "_created")):
                bad(f"{s.name}: a counter sample not named *_total")
            if kind == "counter" and s.name.endswith("_total") and (s.value < 0 or math.isnan(s.value)):
                bad(f"{s.name}{s.labels}: counter value {s.value}")
            if binary and s.value not in (0.0, 1.0):
                bad(f"{s.name}{s.labels}: value {s.value}, expected 0 or 1")
        if kind == "histogram":
            problems.extend(check_histogram(fam))
    problems.extend(check_values(families))
    problems.extend(check_classic(text))
    return problems, families


def check_histogram(fam):
    out = []
    buckets = [(float(s.labels["le"]), s.value) for s in fam.samples if s.name.endswith("_bucket")]
    names = {s.name for s in fam.samples}
    for suffix in ("_bucket", "_count", "_sum"):
        if fam.name + suffix not in names:
            out.append(f"{fam.name}: no {fam.name}{suffix} sample")
    if buckets and buckets[-1][0] != math.inf:
        out.append(f"{fam.name}: the last bucket is not le=\"+Inf\"")
    if [v for _, v in buckets] != sorted(v for _, v in buckets):
        out.append(f"{fam.name}: bucket counts are not cumulative")
    return out


def check_values(families):
    """Label values and the one-current-of-many gauges."""
    out = []

    def samples(name):
        fam = families.get(name)
        return fam.samples if fam else []

    for name, label, allowed in (("svmdr_verdict", "verdict", VERDICTS), ("svmdr_watcher_mode", "mode", MODES)):
        ss = samples(name)
        if not ss:
            continue
        seen = {s.labels.get(label) for s in ss}
        if name == "svmdr_verdict" and seen != VERDICTS:
            out.append(f"{name}: verdicts {sorted(seen)}, expected every one of {sorted(VERDICTS)}")
        if not seen <= allowed:
            out.append(f"{name}: unknown {label} {sorted(seen - allowed)}")
        current = [s.labels.get(label) for s in ss if s.value == 1.0]
        if len(current) != 1:
            out.append(f"{name}: {len(current)} series at 1 ({current}), expected exactly one")
    for s in samples("svmdr_site_reachable"):
        if (s.labels.get("site"), s.labels.get("api")) not in SITES:
            out.append(f"svmdr_site_reachable{s.labels}: unknown site/api")
    for s in samples("svmdr_decisions"):
        if s.name.endswith("_total"):
            if s.labels.get("verdict") not in VERDICTS or s.labels.get("action") not in ACTIONS:
                out.append(f"svmdr_decisions_total{s.labels}: unknown verdict or action")
    for s in samples("svmdr_observations"):
        if s.name.endswith("_total") and s.labels.get("result") not in ("ok", "error"):
            out.append(f"svmdr_observations_total{s.labels}: result is not ok or error")
    states = {}
    for s in samples("svmdr_relationship_state"):
        key = tuple(s.labels.get(k) for k in PAIR)
        states.setdefault(key, []).append((s.labels.get("state"), s.value))
    for key, vals in states.items():
        current = [st for st, v in vals if v == 1.0]
        if len(current) != 1:
            out.append(f"svmdr_relationship_state{dict(zip(PAIR, key))}: states at 1: {current}")
    return out


def check_classic(text):
    """The classic Prometheus text parser reads the gauges and the histogram
    with the same types. (It cannot type OpenMetrics counters: their TYPE
    line names the family, `svmdr_decisions`, and the classic format wants
    the sample's name, `svmdr_decisions_total`.)"""
    out = []
    try:
        fams = {f.name: f.type for f in classic.text_string_to_metric_families(text)}
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        return [f"classic text parser: {e}"]
    for name, (kind, _, _) in FAMILIES.items():
        if kind != "counter" and name in fams and fams[name] != kind:
            out.append(f"classic text parser: {name} is {fams[name]}, expected {kind}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="http(s) URL of /metrics, a file, or - for stdin")
    ap.add_argument("--allow-absent", action="append", default=[], metavar="FAMILY",
                    help="a family that may be missing (its value unknown), e.g. svmdr_backup_stale")
    args = ap.parse_args()
    unknown = set(args.allow_absent) - set(FAMILIES)
    if unknown:
        print(f"check-metrics: --allow-absent names unknown families {sorted(unknown)}", file=sys.stderr)
        return 2
    try:
        text, content_type = read(args.source)
        problems, families = check(text, content_type, set(args.allow_absent))
    except (OSError, ValueError) as e:
        print(f"check-metrics: cannot read or parse {args.source}: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL  {p}")
    samples = sum(len(f.samples) for f in families.values())
    if problems:
        print(f"check-metrics: FAIL ({len(problems)} problems)")
        return 1
    print(f"check-metrics: OK ({len(FAMILIES)} families, {samples} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
