#!/usr/bin/env bash
# Time to the first result for one small image, side by side (hyperfine): the JIT CLI (dotnet build output),
# the NativeAOT CLI and the C host (examples/c/segment_image), all on the CPU with the default model.
#   build/bench-startup.sh [NATIVE_OUT]   (NATIVE_OUT from build/publish-native.sh, default artifacts/native)
set -euo pipefail
cd "$(dirname "$0")/.."
native=$(realpath "${1:-artifacts/native}")
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build src/Cli -c Release -v q -nologo >/dev/null
make -s -C examples/c NATIVESEG="$native" segment_image
mv examples/c/segment_image "$work/"
"$native/nativeseg" synth --out "$work/synth" --images 1 --seed 777 --size 200x160 --instances 6 >/dev/null
image="$work/synth/images/000001.png"
model="$native/weights/default.safetensors"
hyperfine --warmup 2 --runs "${RUNS:-10}" --export-markdown "$work/startup.md" \
  -n "JIT CLI" "src/Cli/bin/Release/net10.0/nativeseg segment $image --model $model --device cpu --out $work/jit" \
  -n "NativeAOT CLI" "$native/nativeseg segment $image --model $model --device cpu --out $work/aot" \
  -n "C host" "$work/segment_image $model $image cpu"
cat "$work/startup.md"
