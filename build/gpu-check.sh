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
#   python3 build/bench-maskrcnn-gpu.py --device cuda --nativeseg publish/nativeseg --append build/BENCHMARKS.md
#                                                     (issue 15: the fp32 and fp16 device pipelines against torchvision
#                                                      eager and autocast, end to end and per stage, at 800x1333; run
#                                                      right after `info`, as the step the first GPU minutes are for)
# and prints a summary table. Exit status is non-zero if any step failed.
# Logs of every step go to $GPU_CHECK_LOG_DIR (default: a fresh temporary folder, printed at the end).
#
# Options:
#   --only STEPS      comma-separated steps to run, of: nvidia-smi, info, pipeline, verify, bench-kernels, train,
#                     bench-torch (which also runs the older maskrcnn comparison); default all
#   --nativeseg PATH  the nativeseg to run (default publish/nativeseg)
#   --device D        cuda (default), or cpu for a slow dry run of the pipeline comparison on a machine without a GPU
#   --runs N          timed runs per side and precision of the pipeline comparison (default 30)
#   --warmup N        its warm-up runs (default 5)
#   --no-append       print the pipeline comparison's table without appending it to build/BENCHMARKS.md
#   --pipeline-timeout S   seconds the pipeline comparison may take before it is stopped and fails (default 480)
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

usage() { sed -n '/^# Options:/,/^# ----/p' "$0" | sed '$d' >&2; exit 2; }
all_steps=nvidia-smi,info,pipeline,verify,bench-kernels,train,bench-torch
only=$all_steps bin=publish/nativeseg device=cuda runs=30 warmup=5 append=1 pipeline_timeout=480
while [ $# -gt 0 ]; do
  case $1 in
    --only) only=${2:?--only needs a list of steps}; shift 2 ;;
    --nativeseg) bin=${2:?--nativeseg needs a path}; shift 2 ;;
    --device) device=${2:?--device needs cuda or cpu}; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --warmup) warmup=${2:?--warmup needs a number}; shift 2 ;;
    --no-append) append=0; shift ;;
    --pipeline-timeout) pipeline_timeout=${2:?--pipeline-timeout needs seconds}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "error: unknown option '$1'" >&2; usage ;;
  esac
done
for s in ${only//,/ }; do
  case ",$all_steps," in *",$s,"*) ;; *) echo "error: --only: unknown step '$s' (steps: $all_steps)" >&2; exit 2 ;; esac
done
case $device in cuda|cpu) ;; *) echo "error: --device must be cuda or cpu, not '$device'" >&2; exit 2 ;; esac
for v in "$runs" "$warmup" "$pipeline_timeout"; do
  case $v in ''|*[!0-9]*) echo "error: --runs, --warmup and --pipeline-timeout take whole numbers, got '$v'" >&2; exit 2 ;; esac
done
[ "$runs" -ge 1 ] || { echo "error: --runs must be at least 1" >&2; exit 2; }
wanted() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

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

fail() {
  names+=("$1"); seconds+=(0); results+=("FAILED: $2"); failed=1
  echo "=== $1: FAILED: $2" >&2
}

if ! wanted nvidia-smi; then
  :
elif command -v nvidia-smi >/dev/null 2>&1; then
  step "nvidia-smi" nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
else
  skip "nvidia-smi" "not installed"
fi
wanted info && step "info" "$bin" info
if wanted pipeline; then
  # The comparison this machine is lent for: a missing torch is a failure here, not a reason to skip.
  if ! python3 -c "import torch, torchvision" >/dev/null 2>&1; then
    fail "pipeline vs torch" "python3 cannot import torch and torchvision"
  else
    append_args=()
    [ "$append" -eq 1 ] && append_args=(--append build/BENCHMARKS.md)
    step "pipeline vs torch" timeout --signal=TERM --kill-after=10 "$pipeline_timeout" python3 build/bench-maskrcnn-gpu.py \
      --device "$device" --runs "$runs" --warmup "$warmup" --nativeseg "$bin" "${append_args[@]}"
  fi
fi
wanted verify && step "kernels verify" "$bin" kernels verify --device cuda
# --help exits 0 even for an unknown command, so look for the command in the help listings instead.
if ! wanted bench-kernels; then
  :
elif "$bin" --help 2>/dev/null | grep -qE '^ +bench ' && "$bin" bench --help 2>/dev/null | grep -qE '^ +kernels '; then
  step "bench kernels" "$bin" bench kernels --device cuda
else
  skip "bench kernels" "this publish has no 'bench kernels' command"
fi
if ! wanted train; then
  :
elif "$bin" --help 2>/dev/null | grep -qE '^ +train '; then
  step "train cuda vs cpu" build/train-device-check.sh "$bin"
else
  skip "train cuda vs cpu" "this publish has no 'train' command"
fi
if ! wanted bench-torch; then
  :
elif [ ! -f build/bench-torch.py ]; then
  skip "bench-torch" "build/bench-torch.py not present"
elif ! python3 -c "import torch, torchvision" >/dev/null 2>&1; then
  skip "bench-torch" "python3 cannot import torch and torchvision"
else
  step "bench-torch" python3 build/bench-torch.py --device cuda --ours "$bin"
  step "maskrcnn vs torch" python3 build/bench-maskrcnn-torch.py --device cuda --runs 10 --rounds 2 --nativeseg "$bin"
fi

echo
echo "summary (logs in $logs)"
printf '  %-18s %-8s %s\n' "step" "seconds" "result"
for i in "${!names[@]}"; do
  printf '  %-18s %-8s %s\n' "${names[$i]}" "${seconds[$i]}" "${results[$i]}"
done
exit "$failed"
