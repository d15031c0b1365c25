#!/usr/bin/env bash
# Checks, without a Docker engine or a cluster, that watcher/Dockerfile
# builds and ships what cargo produces (a static musl build of
# svmdr-watcher in a scratch image running as 65532, the binary as
# ENTRYPOINT), and that watcher/deploy/*.yaml parse and match the code
# (check_deploy.py, PyYAML from PyPI, pinned, in the same venv as
# check-metrics.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$HERE" rev-parse --show-toplevel)"
DF="$HERE/Dockerfile"
venv="${TMPDIR:-/tmp}/svmdr-metrics-venv"
pyyaml="PyYAML==6.0.3"
fail=0
ok() { printf 'ok    %s\n' "$1"; }
bad() { printf 'FAIL  %s\n' "$1"; fail=1; }
has() { grep -qE -- "$1" "$DF"; }

cd "$ROOT"
# What cargo really produces for this package (debug; release differs only in the profile dir).
exe="$(cargo build -q -p watcher --bin svmdr-watcher --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*"' | sed 's/"executable":"//;s/"$//' | grep -v '^null$' | tail -n 1)"
if [ -z "$exe" ] || [ ! -x "$exe" ]; then
  bad "cargo build -p watcher --bin svmdr-watcher produced no executable"
  exit 1
fi
bin="$(basename "$exe")"
ok "cargo builds $bin ($exe)"
[ "$(dirname "$(dirname "$exe")")" = "$ROOT/target" ] && ok "target dir is <repo>/target" \
  || bad "target dir is not <repo>/target, which the Dockerfile assumes"
pkg="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$HERE/Cargo.toml" | head -n 1)"
has "cargo build --release( --locked)? -p $pkg --bin $bin" && ok "Dockerfile builds -p $pkg --bin $bin in release" \
  || bad "Dockerfile does not run 'cargo build --release -p $pkg --bin $bin'"
grep -q "\"${HERE#"$ROOT"/}\"" Cargo.toml && ok "watcher is a workspace member (context = repo root)" \
  || bad "watcher is not listed in the workspace members"
has "target/release/$bin /out/$bin" && ok "installs target/release/$bin as /out/$bin" \
  || bad "Dockerfile does not install target/release/$bin into /out/$bin"
has "^COPY --from=build /out/$bin /$bin$" && ok "final image has /$bin" || bad "final stage does not COPY /out/$bin to /$bin"
has "^ENTRYPOINT \[\"/$bin\"\]$" && ok "ENTRYPOINT is /$bin" || bad "ENTRYPOINT is not [\"/$bin\"]"
last_from="$(grep -E '^FROM ' "$DF" | tail -n 1)"
[ "$last_from" = "FROM scratch" ] && ok "final stage is FROM scratch" || bad "final stage is '$last_from', not FROM scratch"
has "^USER 65532:65532$" && ok "runs as USER 65532:65532" || bad "no USER 65532:65532"
has "musl" && ok "builds on a musl toolchain (static binary)" || bad "no musl toolchain in the build stage"
msrv="$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)"
has "^ARG RUST_VERSION=$msrv$" && ok "Rust image $msrv matches the workspace rust-version" \
  || bad "ARG RUST_VERSION does not match rust-version $msrv"
[ -f Cargo.lock ] && ok "Cargo.lock exists (--locked)" || bad "no Cargo.lock for --locked"
[ -f "$HERE/Dockerfile.dockerignore" ] && grep -q '^target/' "$HERE/Dockerfile.dockerignore" \
  && ok "Dockerfile.dockerignore keeps target/ out of the context" || bad "no Dockerfile.dockerignore excluding target/"
grep -q "image: .*/svmdr-watcher:" "$HERE/deploy/dr-watcher.yaml" "$HERE/deploy/primary.yaml" \
  && ok "the Deployments run the svmdr-watcher image" || bad "the Deployments do not name an svmdr-watcher image"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "$pyyaml"
"$venv/bin/python" "$HERE/check_deploy.py" || fail=1

if [ "$fail" = 0 ]; then echo "check-deploy: OK"; else echo "check-deploy: FAIL"; fi
exit "$fail"
