#!/usr/bin/env python3
"""Fidelity check: drive the ONTAP simulator with NetApp's own Python client.

Every record the simulator returns is re-loaded through netapp_ontap's
marshmallow schema in strict mode (unknown fields and bad enum values fail),
and the SVM-DR flow runs end to end: peer both clusters, create the
dp_destination SVM, SVM peer + accept, create the relationship, initialize,
update, quiesce/resume, stop the source, break, and read the jobs.

Usage: check_netapp_ontap.py --primary https://127.0.0.1:P --dr https://127.0.0.1:Q --ca CA.pem
Prints one line per check and a closing "N passed, M failed"; exits 1 on any failure.
"""

import argparse
import os
import sys
import time
import traceback
from urllib.parse import urlparse

import requests
from netapp_ontap import HostConnection, config, utils
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import (
    Cluster,
    ClusterPeer,
    ExportPolicy,
    ExportRule,
    IpInterface,
    Job,
    Node,
    NfsService,
    IscsiService,
    Lun,
    SnapmirrorPolicy,
    SnapmirrorRelationship,
    SnapmirrorTransfer,
    Svm,
    SvmPeer,
    Volume,
)

PASSED = []
FAILED = []
STATE = {}


def check(name):
    def wrap(fn):
        def run(*args):
            try:
                fn(*args)
                PASSED.append(name)
                print(f"ok    {name}")
            except Exception as exc:  # noqa: BLE001 - report every failure
                FAILED.append(name)
                print(f"FAIL  {name}: {exc!r}")
                traceback.print_exc(limit=3, file=sys.stdout)

        return run

    return wrap


def conn(url, ca):
    u = urlparse(url)
    return HostConnection(
        u.hostname, port=u.port, username="admin", password="Netapp1!", verify=ca,
        poll_interval=1, poll_timeout=60,
    )


def strict(resource):
    """Re-load a resource through its schema, refusing unknown fields."""
    data = resource.to_dict()
    type(resource).from_dict(data, strict=True)
    return data


def collection(cls, connection, *parents, **query):
    with connection:
        recs = list(cls.get_collection(*parents, fields="**", **query))
    for r in recs:
        strict(r)
    return recs


def set_state(rel_uuid, state, **query):
    """PATCH a relationship's state (the library only sends changed fields)."""
    r = SnapmirrorRelationship(uuid=rel_uuid)
    r.state = state
    return r.patch(**query)


def wait_until(what, fn, timeout=30):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--primary", required=True)
    ap.add_argument("--dr", required=True)
    ap.add_argument("--ca", required=True)
    args = ap.parse_args()
    config.RAISE_API_ERRORS = True
    # requests lets these environment bundles override the session's
    # `verify`, which would hide the lab CA given to HostConnection.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    a = conn(args.primary, args.ca)
    b = conn(args.dr, args.ca)

    @check("cluster identity and version parse")
    def _():
        for c, name in ((a, "ontap-a"), (b, "ontap-b")):
            with c:
                cl = Cluster()
                cl.get(fields="**")
            strict(cl)
            assert cl.name == name, cl.name
            assert cl.version.generation == 9 and cl.version.major == 14, cl.version

    _()

    @check("nodes, SVMs, LIFs, volumes, protocols, policies load strictly")
    def _():
        assert len(collection(Node, a)) == 2
        svms = collection(Svm, a)
        assert [s.name for s in svms] == ["svm1"], svms
        assert svms[0].state == "running" and svms[0].subtype == "default"
        ic = collection(IpInterface, a, services="intercluster_core")
        assert len(ic) == 2 and all(i.state == "up" for i in ic), ic
        data = collection(IpInterface, a, **{"svm.name": "svm1"})
        assert {tuple(i.services) for i in data} >= {("data_core", "data_nfs", "data_cifs", "data_flexcache")}
        vols = collection(Volume, a, **{"svm.name": "svm1"})
        assert len(vols) == 4 and any(v.is_svm_root for v in vols)
        nfs = collection(NfsService, a)
        assert nfs[0].state == "online", nfs
        iscsi = collection(IscsiService, a)
        assert iscsi[0].target.name.startswith("iqn."), iscsi
        pols = collection(SnapmirrorPolicy, b, name="MirrorAllSnapshots")
        assert pols[0].type == "async"

    _()

    @check("export policies, rules, volume export policy and size, LUNs load strictly")
    def _():
        pols = collection(ExportPolicy, a, **{"svm.name": "svm1"})
        assert [p.name for p in pols] == ["default"], pols
        rule = pols[0].rules[0]
        assert rule.clients[0].match == "0.0.0.0/0" and list(rule.rw_rule) == ["sys"], rule
        vols = collection(Volume, a, **{"svm.name": "svm1", "is_svm_root": "false"})
        assert vols and all(v.nas.export_policy.name == "default" for v in vols), vols
        assert all(v.size > 0 for v in vols), vols
        luns = collection(Lun, a, **{"svm.name": "svm1"})
        assert len(luns) == 1 and luns[0].location.logical_unit == "lun0", luns
        assert luns[0].status.state == "online" and luns[0].name.endswith("/lun0"), luns
        with a:
            p = ExportPolicy(name="fidelity", svm={"name": "svm1"},
                             rules=[{"clients": [{"match": "198.51.100.0/24"}], "ro_rule": ["sys"], "rw_rule": ["sys"]}])
            p.post()
            p = ExportPolicy.find(name="fidelity", **{"svm.name": "svm1"})
            r = ExportRule(p.id, clients=[{"match": "192.0.2.0/24"}], ro_rule=["sys"], rw_rule=["sys"], index=1)
            r.post()
            rules = list(ExportRule.get_collection(p.id, fields="**"))
        for x in rules:
            strict(x)
        assert [x.clients[0].match for x in rules] == ["192.0.2.0/24", "198.51.100.0/24"], rules
        with a:
            r.delete()
            p.delete()

    _()

    @check("cluster peering on both sides")
    def _():
        with a:
            p = ClusterPeer(remote={"ip_addresses": ["192.0.2.21", "192.0.2.22"]},
                            authentication={"generate_passphrase": True})
            resp = p.post(hydrate=False)
        assert resp.http_response.status_code == 201, resp.http_response.status_code
        # The generated passphrase comes back in the POST's records.
        rec = resp.http_response.json()["records"][0]
        strict(ClusterPeer.from_dict(rec))
        passphrase = rec["authentication"]["passphrase"]
        assert passphrase and len(passphrase) >= 8
        with a:
            pending = list(ClusterPeer.get_collection(fields="status,authentication"))
        assert pending[0].status.state == "pending", pending
        with b:
            ClusterPeer(remote={"ip_addresses": ["192.0.2.11", "192.0.2.12"]},
                        authentication={"passphrase": passphrase}).post(hydrate=False)
        for c in (a, b):
            peers = collection(ClusterPeer, c)
            assert peers[0].status.state == "available", peers[0]
            assert peers[0].authentication.state == "ok"
            assert peers[0].encryption.state == "tls_psk"

    _()

    @check("cluster peer errors surface ONTAP codes")
    def _():
        with a:
            try:
                ClusterPeer(authentication={"passphrase": "abcdefghij"}).post()
                raise AssertionError("expected an error")
            except NetAppRestError as err:
                assert err.http_err_response.http_response.status_code == 400
                assert err.response_body["error"]["code"] == "4656069", err.response_body

    _()

    @check("dp_destination SVM create runs as a job")
    def _():
        with b:
            resp = Svm(name="svm1_dr", subtype="dp_destination").post()
        assert resp.http_response.status_code in (200, 201, 202)
        with b:
            s = Svm.find(name="svm1_dr", fields="subtype,state")
        assert s.subtype == "dp_destination", s

    _()

    @check("SVM peer create on dr, accept on primary")
    def _():
        with b:
            peer = SvmPeer(svm={"name": "svm1_dr"}, peer={"cluster": {"name": "ontap-a"}, "svm": {"name": "svm1"}},
                           applications=["snapmirror"])
            peer.post()
        with a:
            remote = SvmPeer.find(**{"svm.name": "svm1", "peer.svm.name": "svm1_dr"}, fields="state,name")
            assert remote.state == "pending", remote
            remote.state = "peered"
            remote.patch()
        for c in (a, b):
            recs = collection(SvmPeer, c)
            assert recs[0].state == "peered", recs

    _()

    vol = "trident_pvc_0b6f4a2e_6c1d_4f6b_9d3a_2f1e5c7a8b90"

    @check("SVM-DR relationship create, initialize, update")
    def _():
        w = requests.post(f"{args.primary}/_sim/volumes/svm1/{vol}/writes", json={"bytes": 4096}, verify=args.ca, timeout=10)
        assert w.status_code == 201, w.text
        write_id = w.json()["id"]
        with b:
            rel = SnapmirrorRelationship(
                source={"path": "svm1:", "cluster": {"name": "ontap-a"}},
                destination={"path": "svm1_dr:"},
                policy={"name": "MirrorAllSnapshots"},
                identity_preservation="full",
            )
            rel.post()
            rel = SnapmirrorRelationship.find(**{"destination.path": "svm1_dr:"})
            STATE["rel"] = rel.uuid
            rel.get(fields="**")
            strict(rel)
            assert rel.state == "uninitialized" and rel.group_type == "svm_dr", rel
            rel.state = "snapmirrored"
            rel.patch(hydrate=False)

            def mirrored():
                r = SnapmirrorRelationship(uuid=STATE["rel"])
                r.get(fields="**")
                return r if r.state == "snapmirrored" and r.transfer.state == "success" else None

            r = wait_until("snapmirrored", mirrored)
            strict(r)
            assert r.healthy and r.lag_time, r
            t = SnapmirrorTransfer(STATE["rel"])
            t.post(hydrate=False)
            transfers = list(SnapmirrorTransfer.get_collection(STATE["rel"], fields="**"))
            for x in transfers:
                strict(x)
            wait_until("update success", lambda: mirrored())
        vols = collection(Volume, b, **{"svm.name": "svm1_dr"})
        assert any(v.type == "dp" for v in vols), vols
        # Identity preserved: the export policies and the LUN came along.
        dr_pols = collection(ExportPolicy, b, **{"svm.name": "svm1_dr"})
        assert [x.clients[0].match for x in dr_pols[0].rules] == ["0.0.0.0/0"], dr_pols
        assert len(collection(Lun, b, **{"svm.name": "svm1_dr"})) == 1
        held = requests.get(f"{args.dr}/_sim/volumes/svm1_dr/{vol}", verify=args.ca, timeout=10).json()
        assert any(x["id"] == write_id for x in held["writes"]), held
        src = collection(SnapmirrorRelationship, a, list_destinations_only=True)
        assert len(src) == 1

    _()

    @check("quiesce and resume")
    def _():
        with b:
            set_state(STATE["rel"], "paused")
            r = SnapmirrorRelationship(uuid=STATE["rel"])
            r.get(fields="state")
            assert r.state == "paused", r
            set_state(STATE["rel"], "snapmirrored")
            r.get(fields="state")
            assert r.state == "snapmirrored", r

    _()

    @check("break refused while the full-identity source runs (13303808)")
    def _():
        with b:
            try:
                set_state(STATE["rel"], "broken_off")
                raise AssertionError("expected an error")
            except NetAppRestError as err:
                assert err.response_body["error"]["code"] == "13303808", err.response_body

    _()

    @check("stop the source SVM, break, DR SVM becomes default and runs")
    def _():
        with a:
            src = Svm.find(name="svm1")
            src.state = "stopped"
            src.patch()
            src.get(fields="state")
            assert src.state == "stopped", src
        with b:
            set_state(STATE["rel"], "broken_off")
            r = SnapmirrorRelationship(uuid=STATE["rel"])
            r.get(fields="**")
            strict(r)
            assert r.state == "broken_off", r
            s = Svm.find(name="svm1_dr", fields="subtype,state")
            assert s.subtype == "default" and s.state == "running", s
        vols = collection(Volume, b, **{"svm.name": "svm1_dr"})
        assert all(v.type == "rw" for v in vols if not v.is_svm_root), vols
        lifs = collection(IpInterface, b, **{"svm.name": "svm1_dr"})
        assert lifs and all(l.state == "up" for l in lifs), lifs

    _()

    @check("an injected job failure surfaces through the library")
    def _():
        requests.post(f"{args.dr}/_sim/faults", json={"kind": "job_failure", "method": "POST", "path_contains": "/svm/svms", "code": 13434894, "message": "Injected."}, verify=args.ca, timeout=10).raise_for_status()
        with b:
            try:
                Svm(name="never", subtype="dp_destination").post()
                raise AssertionError("expected the job to fail")
            except NetAppRestError as err:
                assert "Injected" in str(err), err
        with b:
            assert Svm.count_collection(name="never") == 0

    _()

    @check("jobs load strictly")
    def _():
        jobs = collection(Job, b)
        assert jobs and all(j.state in ("success", "failure", "queued", "running") for j in jobs)
        assert all(isinstance(j.code, int) for j in jobs if hasattr(j, "code"))

    _()

    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    utils.DEBUG = 0
    sys.exit(main())
