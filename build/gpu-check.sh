#!/usr/bin/env bash
# GPU checks for a Linux GPU machine with no .NET: runs the self-contained publish/ made by
# build/publish.sh elsewhere. Finds the CUDA libraries (the driver, and NVRTC / cuBLAS / cuDNN from a
# pip-installed PyTorch or the system), then runs
#   publish/nativeseg info
#   publish/nativeseg kernels verify --device cuda
#   publish/nativeseg bench kernels --device cuda     (when the publish has that command)
#   python3 build/bench-torch.py --device cuda --ours publish/nativeseg
#   python3 build/bench-maskrcnn-torch.py --device cuda --nativeseg publish/nativeseg   (end to end vs torchvision)
#                                                     (when that file exists and torch imports: ours / torch per case)
# and prints a summary table. Exit status is non-zero if any step failed.
# Logs of every step go to $GPU_CHECK_LOG_DIR (default: a fresh temporary folder, printed at the end).
#
# ---------------------------------------------------------------------------------------------------
# LIBRARY LOCATIONS ON THE LENT H100 / H200 MACHINES: NOT YET RECORDED.
# No GPU has been available to this project so far. After the first run on one of those machines,
# replace this paragraph with what the "library folders" line and `nativeseg info` printed there:
# the driver's folder and version, and the NVRTC, cuBLAS and cuDNN paths and versions.
# Expected, unconfirmed: python3 is /opt/torch/.venv/bin/python3 with torch 2.11.0+cu130, so NVRTC 13 and
# cuBLAS 13 under site-packages/nvidia/cu13/lib, cuDNN 9 under site-packages/nvidia/cudnn/lib, and the
# driver (580.x, libcuda.so.1) under the read-only mount /usr/local/nvidia.
# ---------------------------------------------------------------------------------------------------
set -uo pipefail
cd "$(dirname "$0")/.."

bin=publish/nativeseg
if [ ! -x "$bin" ]; then
  echo "error: $bin not found: run build/publish.sh on a machine with the .NET SDK and bring publish/ along" >&2
  exit 2
fi

has_cuda_library() {
  compgen -G "$1/libcuda.so.1" >/dev/null || compgen -G "$1/libnvrtc.so.*" >/dev/null ||
    compgen -G "$1/libcublas.so.*" >/dev/null || compgen -G "$1/libcudnn.so.*" >/dev/null
}

candidates=()
# PyTorch's wheels carry NVRTC, cuBLAS and cuDNN in site-packages/nvidia/<component>/lib.
if command -v python3 >/dev/null 2>&1; then
  while IFS= read -r site; do
    for d in "$site"/nvidia/*/lib; do candidates+=("$d"); done
  done < <(python3 - 2>/dev/null <<'PY'
import site, os
paths = list(site.getsitepackages()) + [site.getusersitepackages()]
try:
    import torch
    paths.insert(0, os.path.dirname(os.path.dirname(torch.__file__)))
except Exception:
    pass
print("\n".join(paths))
PY
  )
fi
candidates+=(/usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib
  /usr/local/cuda-*/lib64 /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/nvidia/current /usr/lib64 /usr/lib/wsl/lib)

folders=()
for d in "${candidates[@]}"; do
  [ -d "$d" ] || continue
  has_cuda_library "$d" || continue
  case ":$(IFS=:; echo "${folders[*]:-}"):" in *":$d:"*) continue ;; esac
  folders+=("$d")
done
found=$(IFS=:; echo "${folders[*]:-}")
export NATIVESEG_CUDA_LIB_PATH="${NATIVESEG_CUDA_LIB_PATH:+$NATIVESEG_CUDA_LIB_PATH:}$found"
# cuDNN 9 loads its sub-libraries and cuBLAS loads cuBLASLt through the loader's own search path.
export LD_LIBRARY_PATH="$NATIVESEG_CUDA_LIB_PATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "library folders: ${NATIVESEG_CUDA_LIB_PATH:-(none found)}"

logs=${GPU_CHECK_LOG_DIR:-$(mktemp -d)}
mkdir -p "$logs"
names=() results=() seconds=()
failed=0

step() {
  local name=$1; shift
  local log="$logs/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log"
  echo "=== $name: $*"
  local start=$SECONDS
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  names+=("$name"); seconds+=($((SECONDS - start)))
  if [ "$rc" -eq 0 ]; then results+=("ok"); else results+=("FAILED (exit $rc)"); failed=1; fi
}

skip() {
  names+=("$1"); seconds+=(0); results+=("skipped: $2")
}

if command -v nvidia-smi >/dev/null 2>&1; then
  step "nvidia-smi" nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
else
  skip "nvidia-smi" "not installed"
fi
step "info" "$bin" info
step "kernels verify" "$bin" kernels verify --device cuda
# --help exits 0 even for an unknown command, so look for the command in the help listings instead.
if "$bin" --help 2>/dev/null | grep -qE '^ +bench ' && "$bin" bench --help 2>/dev/null | grep -qE '^ +kernels '; then
  step "bench kernels" "$bin" bench kernels --device cuda
else
  skip "bench kernels" "this publish has no 'bench kernels' command"
fi
if "$bin" --help 2>/dev/null | grep -qE '^ +train '; then
  step "train cuda vs cpu" build/train-device-check.sh "$bin"
else
  skip "train cuda vs cpu" "this publish has no 'train' command"
fi
if [ ! -f build/bench-torch.py ]; then
  skip "bench-torch" "build/bench-torch.py not present"
elif ! python3 -c "import torch, torchvision" >/dev/null 2>&1; then
  skip "bench-torch" "python3 cannot import torch and torchvision"
else
  step "bench-torch" python3 build/bench-torch.py --device cuda --ours "$bin"
  step "maskrcnn vs torch" python3 build/bench-maskrcnn-torch.py --device cuda --runs 10 --rounds 2 --nativeseg "$bin"
fi

echo
echo "summary (logs in $logs)"
printf '  %-16s %-8s %s\n' "step" "seconds" "result"
for i in "${!names[@]}"; do
  printf '  %-16s %-8s %s\n' "${names[$i]}" "${seconds[$i]}" "${results[$i]}"
done
exit "$failed"
