//! A restore-site lab for `velero-host-check.sh` and `bench.sh`: starts the
//! ONTAP simulator (cluster `dr`, SVMs `svm1..svmN` after an SVM-DR failover)
//! and a simulated Kubernetes API with Trident installed against it, writes
//! a kubeconfig and fixture items, then runs a command with `KUBECONFIG`,
//! `VELERO_NAMESPACE` and `SVMDR_LAB_FIXTURES` set (the plugin reads the
//! cluster through `$KUBECONFIG` when not in a pod).
//!
//! ```text
//! cargo run -p ark-plugin --example svmdr-lab -- [--scenario S] [--svms N] \
//!     [--fixtures DIR] [--config KEY=VALUE]... [--bench-pvs N --plugin PATH] \
//!     [-- COMMAND ARGS...]
//! ```
//! Scenarios: ready (default), volume-dp, svm-stopped, volume-offline,
//! volume-missing, lif-down, port-closed, ontap-down, wrong-password.
//! `--bench-pvs N` restores N distinct Trident PVs and their PVCs spread
//! over the SVMs through one plugin process, as Velero sends them (each PV,
//! then its PVC with the backup copy), and prints the timing as JSON (with
//! `SVMDR_LAB_SMAPS=1`, also the plugin's resident memory by mapping). The
//! cluster has two Nodes, and every SVM's `default` export policy admits
//! them, so each PVC import runs the export-policy check.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sim::kube::KubeSim;
use sim::kube::fixtures::{DR_NODES, TridentSite, legacy_nfs_pv, node, trident_csi_pv, trident_pvc};
use sim::ontap::{OntapSim, Timing, Topology};
use sim::velero::{PluginHost, VELERO_SERVER_ARGS};

const PLUGIN: &str = "svmdr.netapp.io/trident-storage";
/// The PV of velero-host's testdata (its ONTAP volume exists on svm1).
const TESTDATA_PV: &str = "pvc-3f6c1a52-8f0e-4b8a-9d3c-2f7b6e1a4c90";
/// A PV whose PVC Velero re-provisions (its volume exists on svm1, no PV in the cluster).
const REPROVISIONED_PV: &str = "pvc-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
/// The backend UUID in the backup (the primary site's).
const OLD_BACKEND: &str = "6b1f4d3e-2a7c-4e8b-b1d9-0c5e7f2a9b18";

struct Opts {
    scenario: String,
    svms: usize,
    fixtures: Option<PathBuf>,
    bench_pvs: usize,
    plugin: Option<PathBuf>,
    config: Vec<(String, String)>,
    command: Vec<String>,
}

fn parse() -> Result<Opts> {
    let mut o = Opts {
        scenario: "ready".into(),
        svms: 1,
        fixtures: None,
        bench_pvs: 0,
        plugin: None,
        config: Vec::new(),
        command: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--scenario" => o.scenario = val("--scenario")?,
            "--svms" => o.svms = val("--svms")?.parse().context("--svms")?,
            "--fixtures" => o.fixtures = Some(val("--fixtures")?.into()),
            "--bench-pvs" => o.bench_pvs = val("--bench-pvs")?.parse().context("--bench-pvs")?,
            "--plugin" => o.plugin = Some(val("--plugin")?.into()),
            "--config" => {
                let kv = val("--config")?;
                let (k, v) = kv.split_once('=').context("--config takes KEY=VALUE")?;
                o.config.push((k.to_string(), v.to_string()));
            }
            "--" => {
                o.command = args.collect();
                break;
            }
            other => bail!("unknown argument {other:?} (see the module docs)"),
        }
    }
    if o.svms == 0 || o.svms > 50 {
        bail!("--svms must be 1..=50");
    }
    Ok(o)
}

fn volume_name(pv: &str) -> String {
    svmdr::trident::volume::ontap_volume_name(None, pv)
}

fn bench_pv(i: usize, svm: usize) -> String {
    format!("pvc-bench-{svm}-{i:05}")
}

fn topology(o: &Opts) -> Result<Topology> {
    let per_svm = o.bench_pvs.div_ceil(o.svms);
    let mut yaml = String::from(
        "network: { nfs_port: 0, iscsi_port: 0 }\nclusters:\n  - key: dr\n    name: ontap-b\n    nodes: [ontap-b-01, ontap-b-02]\n    accounts: [{ username: admin, password: \"Netapp1!\", role: admin }]\n    svms:\n",
    );
    for n in 1..=o.svms {
        let (state, subtype) = if o.scenario == "svm-stopped" {
            ("stopped", "dp_destination")
        } else {
            ("running", "default")
        };
        yaml.push_str(&format!(
            "      - name: svm{n}\n        state: {state}\n        subtype: {subtype}\n        nfs: true\n        iscsi: true\n        export_policies:\n          - name: default\n            rules:\n              - {{ clients: [{{ match: 198.51.100.0/24 }}], protocols: [nfs], ro_rule: [sys], rw_rule: [sys], superuser: [sys] }}\n        lifs:\n          - {{ name: svm{n}_nfs_lif1, ip: 127.0.{n}.1, services: [data_nfs], home_node: ontap-b-01 }}\n          - {{ name: svm{n}_iscsi_lif1, ip: 127.0.{n}.2, services: [data_iscsi], home_node: ontap-b-02 }}\n        volumes:\n          - {{ name: svm{n}_root, size: 1GB, is_svm_root: true, junction_path: / }}\n"
        ));
        let mut vols: Vec<String> = (0..per_svm).map(|i| volume_name(&bench_pv(i, n))).collect();
        if n == 1 && o.scenario != "volume-missing" {
            vols.push(volume_name(TESTDATA_PV));
            vols.push(volume_name(REPROVISIONED_PV));
        }
        for v in vols {
            let vtype = if o.scenario == "volume-dp" {
                "dp"
            } else {
                "rw"
            };
            let vstate = if o.scenario == "volume-offline" {
                "offline"
            } else {
                "online"
            };
            yaml.push_str(&format!("          - {{ name: {v}, size: 10GB, type: {vtype}, state: {vstate}, junction_path: /{v} }}\n"));
        }
    }
    Topology::from_yaml(&yaml)
}

fn restored(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

fn write_fixtures(dir: &std::path::Path, site: &TridentSite) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, v: &Value| -> Result<()> {
        std::fs::write(dir.join(name), serde_json::to_vec_pretty(v)?)
            .with_context(|| format!("writing {name}"))
    };
    let mut pv = trident_csi_pv(
        TESTDATA_PV,
        OLD_BACKEND,
        &volume_name(TESTDATA_PV),
        "file",
        "20Gi",
        "shop",
        "data-postgres-0",
        "Retain",
    );
    pv["spec"]["storageClassName"] = json!(site.storage_class);
    write("pv-from-backup.json", &pv)?;
    write("pv.json", &restored(pv))?;
    let pvc = trident_pvc(
        "shop",
        "data-postgres-1",
        REPROVISIONED_PV,
        &site.storage_class,
        "10Gi",
    );
    write("pvc-from-backup.json", &pvc)?;
    write("pvc.json", &restored(pvc))?;
    write(
        "pv-legacy.json",
        &restored(legacy_nfs_pv(
            "default-data-legacy",
            "127.0.1.1",
            &format!("/{}", volume_name(TESTDATA_PV)),
            "1Gi",
            "shop",
            "data-legacy",
            "Retain",
        )),
    )?;
    write(
        "pv-ebs.json",
        &json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-ebs"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0abc"}, "persistentVolumeReclaimPolicy": "Retain"}}),
    )?;
    write(
        "restore.json",
        &json!({"apiVersion": "velero.io/v1", "kind": "Restore",
            "metadata": {"name": "dr-restore", "namespace": "velero", "uid": "5a1c0b2d-0000-4000-8000-00000000d0d0"},
            "spec": {"backupName": "shop-nightly", "restorePVs": true}}),
    )?;
    Ok(())
}

async fn run() -> Result<i32> {
    let o = parse()?;
    let ontap = OntapSim::start_with(topology(&o)?, Timing::fast()).await?;
    let kube = KubeSim::start("dr").await?;
    let password = if o.scenario == "wrong-password" {
        "not-the-password"
    } else {
        "Netapp1!"
    };
    let mut sites = Vec::new();
    for n in 1..=o.svms {
        let mut site =
            TridentSite::new(&format!("nas-svm{n}"), &ontap.url("dr"), &format!("svm{n}"))
                .credentials("admin", password);
        site.storage_class = if n == 1 {
            "ontap-nas".into()
        } else {
            format!("ontap-nas-svm{n}")
        };
        site.seed(&kube)?;
        sites.push(site);
    }
    kube.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}}))?;
    for (name, ip) in DR_NODES {
        kube.apply(node(name, ip))?;
    }
    let (nfs, iscsi) = ontap.probe_ports();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut data = BTreeMap::from([
        ("ontapCA".to_string(), ontap.ca_pem().to_string()),
        (
            "nfsProbePort".to_string(),
            if o.scenario == "port-closed" {
                closed
            } else {
                nfs
            }
            .to_string(),
        ),
        ("iscsiProbePort".to_string(), iscsi.to_string()),
        ("probeTimeout".to_string(), "2s".to_string()),
        ("ontapTimeout".to_string(), "5s".to_string()),
    ]);
    if o.bench_pvs > 0 {
        data.insert("cacheTTL".into(), "5m".into());
    }
    for (k, v) in &o.config {
        data.insert(k.clone(), v.clone());
    }
    kube.apply(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "svmdr-plugin", "namespace": "velero",
            "labels": {"velero.io/plugin-config": "", PLUGIN: "RestoreItemAction"}},
        "data": data,
    }))?;
    match o.scenario.as_str() {
        "lif-down" => ontap.control().set_lif_down("dr", "svm1_nfs_lif1", true),
        "ontap-down" => ontap.control().set_cluster_down("dr", true),
        "ready" | "volume-dp" | "svm-stopped" | "volume-offline" | "volume-missing"
        | "port-closed" | "wrong-password" => {}
        other => bail!("unknown scenario {other:?}"),
    }
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    sim::kube::write_kubeconfig(&kubeconfig, &[("dr", &kube)])?;
    let fixtures = o
        .fixtures
        .clone()
        .unwrap_or_else(|| dir.path().join("fixtures"));
    write_fixtures(&fixtures, &sites[0])?;
    let env = [
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("VELERO_NAMESPACE", "velero".to_string()),
        ("SVMDR_LAB_FIXTURES", fixtures.display().to_string()),
    ];
    eprintln!(
        "svmdr-lab: scenario {}, {} SVM(s), ONTAP {}, kube {}, fixtures {}",
        o.scenario,
        o.svms,
        ontap.url("dr"),
        kube.url(),
        fixtures.display()
    );

    if o.bench_pvs > 0 {
        let plugin = o
            .plugin
            .clone()
            .context("--bench-pvs needs --plugin PATH")?;
        bench(&o, &plugin, &env, &ontap).await?;
    }
    if o.command.is_empty() {
        return Ok(0);
    }
    let status = tokio::process::Command::new(&o.command[0])
        .args(&o.command[1..])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .status()
        .await
        .with_context(|| format!("running {}", o.command[0]))?;
    Ok(status.code().unwrap_or(1))
}

async fn bench(o: &Opts, plugin: &PathBuf, env: &[(&str, String)], ontap: &OntapSim) -> Result<()> {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let restore = serde_json::to_vec(&json!({"metadata": {"name": "bench", "namespace": "velero",
        "uid": "bench-0001"}, "spec": {"backupName": "bench"}}))?;
    // Each PV as Velero sends it (restored as-is: Retain, no snapshot), then
    // its PVC after velero.io/pvc (annotations stripped) with the backup copy.
    let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(o.bench_pvs * 2);
    for i in 0..o.bench_pvs {
        let svm = i % o.svms + 1;
        let name = bench_pv(i / o.svms, svm);
        let claim = format!("data-{i}");
        let class = if svm == 1 {
            "ontap-nas".to_string()
        } else {
            format!("ontap-nas-svm{svm}")
        };
        let mut pv = trident_csi_pv(
            &name,
            OLD_BACKEND,
            &volume_name(&name),
            "file",
            "1Gi",
            "shop",
            &claim,
            "Retain",
        );
        pv["spec"]["storageClassName"] = json!(class);
        let pv = serde_json::to_vec(&restored(pv))?;
        items.push((pv.clone(), pv));
        let backed_up = trident_pvc("shop", &claim, &name, &class, "1Gi");
        let mut item = restored(backed_up.clone());
        item["metadata"]["annotations"] = json!({});
        items.push((serde_json::to_vec(&item)?, serde_json::to_vec(&backed_up)?));
    }
    let before = ontap.control().request_count("dr");
    let t0 = Instant::now();
    let host = PluginHost::spawn(plugin, &env, VELERO_SERVER_ARGS).await?;
    let started = t0.elapsed();
    let mut lat = Vec::with_capacity(items.len());
    let (mut skipped, mut imported) = (0usize, 0usize);
    let t1 = Instant::now();
    for (item, from_backup) in &items {
        let t = Instant::now();
        let r = host
            .execute(PLUGIN, item, &restore, from_backup)
            .await
            .map_err(|s| anyhow::anyhow!("Execute failed: {}", s.message()))?;
        lat.push(t.elapsed());
        let v: Value = serde_json::from_slice(&r.item)?;
        if r.skip_restore {
            skipped += 1;
        }
        if v.pointer("/metadata/annotations/trident.netapp.io~1importOriginalName")
            .is_some()
        {
            imported += 1;
        }
    }
    let executes = t1.elapsed();
    let peak_rss_kib = host.pid().and_then(|pid| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    if std::env::var_os("SVMDR_LAB_SMAPS").is_some()
        && let Some(pid) = host.pid()
    {
        // Diagnostics: where the plugin's resident memory is, by mapping.
        let script = format!(
            "grep -E '^(Rss|Pss_Anon|Pss_File)' /proc/{pid}/smaps_rollup; \
             awk '/^[0-9a-f]+-/{{name=$6\" \"$2}} /^Rss:/{{rss[name]+=$2}} END{{for(n in rss) print rss[n], n}}' \
             /proc/{pid}/smaps | sort -rn | head -8"
        );
        let _ = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .status();
    }
    let report = host.shutdown().await?;
    let total = t0.elapsed();
    lat.sort();
    let pct = |p: f64| {
        let i = ((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i].as_secs_f64() * 1000.0
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{}",
        json!({
            "pvs": o.bench_pvs, "svms": o.svms, "executes": items.len(),
            "pvsSkipped": skipped, "pvcsImported": imported,
            "totalMs": ms(total), "startToReadyMs": ms(started), "executesMs": ms(executes),
            "executeP50Ms": pct(0.50), "executeP99Ms": pct(0.99), "executeMaxMs": pct(1.0),
            "ontapRequests": ontap.control().request_count("dr") - before,
            "killedAfterShutdown": report.killed,
            "peakRssKiB": peak_rss_kib,
        })
    );
    Ok(())
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("svmdr-lab: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run()) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("svmdr-lab: {e:#}");
            ExitCode::from(2)
        }
    }
}
