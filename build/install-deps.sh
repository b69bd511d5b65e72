#!/usr/bin/env bash
# Installs the Debian packages NativeSeg needs at run time and for its tests. Idempotent.
#   OpenBLAS (CPU GEMM), libturbojpeg + libspng (images), NVRTC 11.8 from non-free (kernel compiles
#   without a GPU), libjpeg-turbo-progs (djpeg, the JPEG reference), g++ (CUDA emulation in the tests; also the
#   linker and C compiler of the NativeAOT build and the C host tests), zlib1g-dev (NativeAOT links zlib),
#   afl++ (afl-fuzz, which build/fuzz.sh drives), slurm-wlm + munge (the test that runs build/slurm on a
#   single-node Slurm it starts itself).
# With --torch it also installs Debian's torch/torchvision, used only to regenerate fixtures and to
# benchmark against; the tests never need them.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

sources=/etc/apt/sources.list.d/debian.sources
if [ -f "$sources" ] && ! grep -q "non-free" "$sources"; then
  $sudo sed -i 's/^Components: main$/Components: main contrib non-free/' "$sources"
elif [ -f /etc/apt/sources.list ] && ! grep -q "non-free" /etc/apt/sources.list; then
  $sudo sed -i -E 's/^(deb .* main)$/\1 contrib non-free/' /etc/apt/sources.list
fi

packages=(libopenblas0-pthread libturbojpeg0 libspng0 libnvrtc11.2 libjpeg-turbo-progs g++ zlib1g-dev afl++ slurm-wlm munge)
if [ "${1:-}" = "--torch" ]; then
  packages+=(python3-torch python3-torchvision python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
