#!/usr/bin/env bash
# Builds the krew release archives of kubectl-svmdr and renders the krew
# manifest from them.
#
#   krew/package.sh [--profile release|debug] [--target TRIPLE]... [--out DIR]
#                   [--binary PATH [--plugin-binary PATH] [--watcher-binary PATH]]
#                   [--version X.Y.Z]
#                   [--base-url URL] [--render-only]
#
# For each target it writes DIR/kubectl-svmdr_v<version>_<os>_<arch>.tar.gz
# (kubectl-svmdr; velero-plugin-svmdr and svmdr-watcher for the lab drill
# and its watcher scenarios; LICENSE; all at the archive root), DIR/SHA256SUMS, and DIR/svmdr.yaml: a manifest with one
# platform per archive present in DIR. With no --target it builds for the
# host. --binary packages existing binaries (for the host, or for the one
# --target given) instead of building; the plugin and the watcher are taken
# from beside it unless --plugin-binary / --watcher-binary name them (the tests use the debug binaries that
# `cargo test` already built). The release workflow runs this once per
# platform into one DIR, then once more with --render-only.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile=release
out="$root/dist"
binary=""
plugin_binary=""
watcher_binary=""
render_only=false
targets=()
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
base_url="https://github.com/svmdr/kubectl-svmdr/releases/download"

while (($#)); do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --plugin-binary) plugin_binary="$2"; shift 2 ;;
    --watcher-binary) watcher_binary="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --base-url) base_url="$2"; shift 2 ;;
    --render-only) render_only=true; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "package.sh: bad version '$version'" >&2; exit 2; }
tag="v$version"
mkdir -p "$out"

# Rust target triple -> krew os/arch (Go's GOOS/GOARCH).
os_arch() {
  case "$1" in
    x86_64-unknown-linux-*) echo "linux amd64" ;;
    aarch64-unknown-linux-*) echo "linux arm64" ;;
    x86_64-apple-darwin) echo "darwin amd64" ;;
    aarch64-apple-darwin) echo "darwin arm64" ;;
    x86_64-pc-windows-*) echo "windows amd64" ;;
    *) echo "package.sh: no krew platform for target '$1'" >&2; return 2 ;;
  esac
}

host_target() { rustc -vV | sed -n 's/^host: //p'; }

package_one() { # target binary plugin-binary watcher-binary
  local target="$1" bin="$2" plugin="$3" watcher="$4" os arch name stage
  read -r os arch < <(os_arch "$target")
  name="kubectl-svmdr_${tag}_${os}_${arch}"
  stage="$(mktemp -d)"
  local exe="kubectl-svmdr"
  local files=()
  [[ "$os" == windows ]] && exe="kubectl-svmdr.exe"
  install -m 0755 "$bin" "$stage/$exe"
  files+=("$exe")
  # The Velero plugin rides along (not on windows: Velero runs on Linux)
  # so that `kubectl svmdr lab drill` finds it next to kubectl-svmdr.
  if [[ "$os" != windows ]]; then
    [[ -f "$plugin" ]] || { echo "package.sh: velero-plugin-svmdr not found at '$plugin' (--plugin-binary)" >&2; exit 2; }
    install -m 0755 "$plugin" "$stage/velero-plugin-svmdr"
    files+=(velero-plugin-svmdr)
    # The watcher too: `lab drill --scenario watcher-...` runs it.
    [[ -f "$watcher" ]] || { echo "package.sh: svmdr-watcher not found at '$watcher' (--watcher-binary)" >&2; exit 2; }
    install -m 0755 "$watcher" "$stage/svmdr-watcher"
    files+=(svmdr-watcher)
  fi
  install -m 0644 "$root/LICENSE" "$stage/LICENSE"
  files+=(LICENSE)
  # Reproducible archive: fixed owner, mtime and order.
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' \
      -C "$stage" -czf "$out/$name.tar.gz" "${files[@]}"
  rm -rf "$stage"
  echo "package.sh: $out/$name.tar.gz" >&2
}

if ! $render_only; then
  if [[ -n "$binary" ]]; then
    package_one "${targets[0]:-$(host_target)}" "$binary" \
      "${plugin_binary:-$(dirname "$binary")/velero-plugin-svmdr}" \
      "${watcher_binary:-$(dirname "$binary")/svmdr-watcher}"
  else
    ((${#targets[@]})) || targets=("$(host_target)")
    for t in "${targets[@]}"; do
      flags=(-p kubectl-svmdr --bin kubectl-svmdr -p ark-plugin --bin velero-plugin-svmdr -p watcher --bin svmdr-watcher --target "$t")
      [[ "$profile" == release ]] && flags+=(--release)
      cargo build "${flags[@]}" --manifest-path "$root/Cargo.toml"
      dir="$profile"; [[ "$profile" == dev ]] && dir=debug
      exe="$root/target/$t/$dir/kubectl-svmdr"
      [[ "$t" == *windows* ]] && exe="$exe.exe"
      package_one "$t" "$exe" "$root/target/$t/$dir/velero-plugin-svmdr" "$root/target/$t/$dir/svmdr-watcher"
    done
  fi
fi

# Checksums and the manifest, from whatever archives DIR holds for this tag.
shopt -s nullglob
archives=("$out"/kubectl-svmdr_"${tag}"_*.tar.gz)
((${#archives[@]})) || { echo "package.sh: no archives for $tag in $out" >&2; exit 1; }
(cd "$out" && sha256sum "${archives[@]##*/}" > SHA256SUMS)

{
  cat <<YAML
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: svmdr
spec:
  version: "$tag"
  homepage: https://github.com/svmdr/kubectl-svmdr
  shortDescription: ONTAP SVM-DR failover and failback for Trident
  description: |
    Disaster recovery for Kubernetes clusters whose storage is NetApp ONTAP
    provisioned by Trident. The plugin finds the ONTAP clusters and SVMs behind
    the Trident backends of a primary and a DR cluster, sets up cluster and SVM
    peering and an SVM-DR relationship, shows replication health and lag
    against the RPO, and runs failover, planned switchover, resync and failback
    as resumable plans with --dry-run, confirmation prompts and a timeline.
    Together with its Velero plugin (velero-plugin-svmdr) it restores the
    Kubernetes objects from a Velero backup only onto storage that is
    reachable and writable.
  caveats: |
    kubectl svmdr talks to the ONTAP cluster management LIFs directly.
    * Peering, SVM-DR set-up, failover and failback need ONTAP cluster-admin
      credentials; Trident often holds SVM-scoped (vsadmin) ones. Name a
      Secret in ~/.config/kubectl-svmdr/config.yaml or set
      SVMDR_ONTAP_USERNAME / SVMDR_ONTAP_PASSWORD.
    * It reads TridentBackendConfigs, TridentBackends and their Secrets in the
      Trident namespace (default "trident") of each cluster.
    * Restores use Velero; install the velero-plugin-svmdr image with
      "velero plugin add" so restored PVs are checked against ONTAP.
    * The in-cluster watcher (svmdr-watcher: metrics, alerts, and automatic
      failover only on a witness's quorum) is deployed separately from
      watcher/deploy; "kubectl svmdr watcher status|arm|disarm" drive it.
    Try it without any storage first: kubectl svmdr lab drill (a simulated
    lab; it runs the bundled velero-plugin-svmdr), and
    kubectl svmdr lab drill --scenario watcher-primary-lost (the bundled
    svmdr-watcher fails over on its own).
  platforms:
YAML
  for a in "${archives[@]}"; do
    f="${a##*/}"
    rest="${f#kubectl-svmdr_${tag}_}"; rest="${rest%.tar.gz}"
    os="${rest%_*}"; arch="${rest#*_}"
    sum="$(sha256sum "$a" | cut -d' ' -f1)"
    bin="kubectl-svmdr"; [[ "$os" == windows ]] && bin="kubectl-svmdr.exe"
    cat <<YAML
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $base_url/$tag/$f
    sha256: $sum
    bin: $bin
    files:
    - from: "$bin"
      to: "."
YAML
    [[ "$os" != windows ]] && cat <<YAML
    - from: velero-plugin-svmdr
      to: "."
    - from: svmdr-watcher
      to: "."
YAML
    cat <<YAML
    - from: LICENSE
      to: "."
YAML
  done
} > "$out/svmdr.yaml"
echo "package.sh: $out/svmdr.yaml (${#archives[@]} platform(s))" >&2
