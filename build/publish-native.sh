#!/usr/bin/env bash
# Builds NativeSeg for native hosts with the NativeAOT compiler (needs gcc or clang and zlib headers, which
# build/install-deps.sh installs) and writes into OUT (default: artifacts/native):
#   OUT/libnativeseg.so   the C ABI (src/Native), OUT/nativeseg.h its header,
#   OUT/nativeseg         the CLI compiled ahead of time (no JIT at start-up), with the native libraries it loads
#                         beside it (SkiaSharp's, for overlays), licenses/ and weights/default.safetensors.
# ARTIFACTS_PATH, when set, keeps intermediate build output out of the tree (parallel builds).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-artifacts/native}")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
common=(-c Release -r linux-x64 -p:PublishAot=true ${ARTIFACTS_PATH:+--artifacts-path "$ARTIFACTS_PATH"})
dotnet publish src/Native "${common[@]}" -o "$stage/lib"
dotnet publish src/Cli "${common[@]}" -o "$stage/cli"
mkdir -p "$out/weights" "$out/licenses"
cp "$stage/lib/libnativeseg.so" src/Native/nativeseg.h "$stage/cli/nativeseg" "$stage"/cli/*.so "$out/"
cp "$stage"/cli/licenses/* "$out/licenses/"
[ -f weights/default.safetensors ] && cp weights/default.safetensors "$out/weights/"
echo "published: $(du -sh "$out/libnativeseg.so" | cut -f1) libnativeseg.so, $(du -sh "$out/nativeseg" | cut -f1) nativeseg in $out"
