#!/usr/bin/env bash
# Checks, without a Docker engine, that ark-plugin/Dockerfile builds and
# ships what cargo produces: the package and binary names, the release path,
# the copy into /plugins and the ENTRYPOINT copy into /target (what
# `velero plugin add` expects), a scratch final stage running as 65532, and
# that the build context (the repo root) holds the workspace.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$HERE" rev-parse --show-toplevel)"
DF="$HERE/Dockerfile"
fail=0
ok() { printf 'ok    %s\n' "$1"; }
bad() { printf 'FAIL  %s\n' "$1"; fail=1; }
has() { grep -qE -- "$1" "$DF"; }

cd "$ROOT"
# What cargo really produces for this package (debug build; release differs only in the profile dir).
exe="$(cargo build -q -p ark-plugin --bin velero-plugin-svmdr --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*"' | sed 's/"executable":"//;s/"$//' | grep -v '^null$' | tail -n 1)"
if [ -z "$exe" ] || [ ! -x "$exe" ]; then
  bad "cargo build -p ark-plugin --bin velero-plugin-svmdr produced no executable"
  exit 1
fi
bin="$(basename "$exe")"
target_dir="$(dirname "$(dirname "$exe")")"
ok "cargo builds $bin ($exe)"
[ "$target_dir" = "$ROOT/target" ] && ok "target dir is <repo>/target" || bad "target dir is $target_dir, the Dockerfile assumes <repo>/target"

pkg="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$HERE/Cargo.toml" | head -n 1)"
has "cargo build --release( --locked)? -p $pkg --bin $bin" && ok "Dockerfile builds -p $pkg --bin $bin in release" \
  || bad "Dockerfile does not run 'cargo build --release -p $pkg --bin $bin'"
grep -q "\"${HERE#"$ROOT"/}\"" Cargo.toml && ok "ark-plugin is a workspace member (context = repo root)" \
  || bad "ark-plugin is not listed in the workspace members"
has "target/release/$bin /out/plugins/$bin" && ok "installs target/release/$bin as /out/plugins/$bin" \
  || bad "Dockerfile does not install target/release/$bin into /out/plugins/$bin"
has "^COPY --from=build /out/plugins/$bin /plugins/$bin$" && ok "final image has /plugins/$bin" \
  || bad "final stage does not COPY /out/plugins/$bin to /plugins/$bin"
has "^ENTRYPOINT \[\"cp\", \"/plugins/$bin\", \"/target/\.\"\]$" && ok "ENTRYPOINT copies /plugins/$bin into /target" \
  || bad "ENTRYPOINT is not [\"cp\", \"/plugins/$bin\", \"/target/.\"]"
has "^COPY --from=busybox /bin/cp /bin/cp$" && ok "busybox cp is present for the ENTRYPOINT" || bad "no /bin/cp in the final image"
last_from="$(grep -E '^FROM ' "$DF" | tail -n 1)"
[ "$last_from" = "FROM scratch" ] && ok "final stage is FROM scratch" || bad "final stage is '$last_from', not FROM scratch"
has "^USER 65532:65532$" && ok "runs as USER 65532:65532" || bad "no USER 65532:65532"
has "musl" && ok "builds on a musl toolchain (static binary)" || bad "no musl toolchain in the build stage"
grep -q '^rust-version *= *"' Cargo.toml && {
  msrv="$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)"
  has "^ARG RUST_VERSION=$msrv$" && ok "Rust image $msrv matches the workspace rust-version" \
    || bad "ARG RUST_VERSION does not match rust-version $msrv"
}
[ -f Cargo.lock ] && ok "Cargo.lock exists (--locked)" || bad "no Cargo.lock for --locked"
[ -f "$HERE/Dockerfile.dockerignore" ] && grep -q '^target/' "$HERE/Dockerfile.dockerignore" \
  && ok "Dockerfile.dockerignore keeps target/ out of the context" || bad "no Dockerfile.dockerignore excluding target/"
if [ "$fail" = 0 ]; then echo "check-dockerfile: OK"; else echo "check-dockerfile: FAIL"; fi
exit "$fail"
