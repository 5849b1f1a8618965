#!/usr/bin/env bash
# Build the floodgate Lambda (`bootstrap`, provided.al2023) into target/lambda/bootstrap.zip.
#
#   bash scripts/build-lambda.sh            # x86_64 (default architecture of the stack)
#   ARCH=arm64 bash scripts/build-lambda.sh # Graviton: deploy with -c architecture=arm64
#
# Cross-links against glibc 2.34 (Amazon Linux 2023 ships 2.34) with cargo-zigbuild; zig and
# cargo-zigbuild are installed into target/tools (from PyPI, falling back to crates.io for
# cargo-zigbuild) when missing. No Docker, no cargo-lambda.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${ARCH:-x86_64}
case "$arch" in
  x86_64 | amd64) triple=x86_64-unknown-linux-gnu ;;
  arm64 | aarch64) triple=aarch64-unknown-linux-gnu ;;
  *) echo "ARCH must be x86_64 or arm64, not $arch" >&2; exit 2 ;;
esac
glibc=2.34
tools=$PWD/target/tools

export PATH="$tools/venv/bin:$tools/bin:$PATH"
# cargo-zigbuild finds zig on PATH or through `python3 -m ziglang` (the venv's python).
if ! command -v cargo-zigbuild >/dev/null || ! { command -v zig >/dev/null || python3 -m ziglang version >/dev/null 2>&1; }; then
  echo "installing zig and cargo-zigbuild into $tools"
  [ -x "$tools/venv/bin/python" ] || python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check ziglang
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check cargo-zigbuild \
    || cargo install --locked --root "$tools" cargo-zigbuild
fi

rustup target list --installed 2>/dev/null | grep -qx "$triple" || rustup target add "$triple"

echo "building bootstrap for $triple (glibc $glibc)"
cargo zigbuild --release --target "$triple.$glibc" -p floodgate-lambda --bin bootstrap

bin=target/$triple/release/bootstrap
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

# Refuse a binary that needs a newer glibc than the runtime has.
newest=$( (objdump -T "$bin" 2>/dev/null || readelf -W --dyn-syms "$bin") \
  | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
echo "newest GLIBC symbol version needed: ${newest:-none}"
if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$glibc" | sort -V | tail -1)" != "$glibc" ]; then
  echo "bootstrap needs GLIBC_$newest, newer than $glibc (provided.al2023)" >&2
  exit 1
fi

out=target/lambda
mkdir -p "$out"
rm -f "$out/bootstrap.zip"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin" "$stage/bootstrap"
# The release profile keeps line tables for local profiling; the Lambda does not need them.
strip "$stage/bootstrap" 2>/dev/null || echo "note: could not strip $bin (install binutils-multiarch for arm64); zipping it unstripped"
chmod 755 "$stage/bootstrap"
python3 - "$stage/bootstrap" "$out/bootstrap.zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # executable bit, as Lambda requires
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(src, "rb") as f:
        z.writestr(info, f.read())
PY
size=$(stat -c %s "$out/bootstrap.zip")
echo "wrote $out/bootstrap.zip ($((size / 1024)) KiB; bootstrap $(( $(stat -c %s "$stage/bootstrap") / 1024 )) KiB, $triple)"
