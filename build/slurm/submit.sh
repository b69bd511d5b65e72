#!/usr/bin/env bash
# Submits a sharded `segment` as a Slurm job array and a merge-and-eval job that runs when every task ended well.
#   build/slurm/submit.sh --tasks N --out DIR [--cpus-per-task C] [--gpus-per-task G] [--partition P]
#       [--time T] [--model M] [--device D] [--batch B] [--nativeseg CMD] [--sbatch "EXTRA OPTIONS"] -- INPUTS...
# INPUTS are segment's: images, folders, --list FILE, --annotations A.json [--images DIR]; with an
# annotation file the merged results are also evaluated against it. Prints the array's and the merge's job ids.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tasks="" out="" cpus=1 gpus=0 partition="" time="" model="" device="" batch=1 nativeseg="nativeseg" extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) tasks="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --cpus-per-task) cpus="$2"; shift 2 ;;
    --gpus-per-task) gpus="$2"; shift 2 ;;
    --partition) partition="$2"; shift 2 ;;
    --time) time="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --nativeseg) nativeseg="$2"; shift 2 ;;
    --sbatch) extra="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "error: unknown option $1 (inputs follow --)" >&2; exit 2 ;;
  esac
done
if ! [[ "$tasks" =~ ^[1-9][0-9]*$ ]]; then echo "error: --tasks must be a positive number of array tasks, got '$tasks'" >&2; exit 2; fi
if [ -z "$out" ] || [ $# -eq 0 ]; then echo "error: give --out DIR and, after --, the inputs" >&2; exit 2; fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# merge takes folders and images as --inputs; --list, --annotations and --images pass as they are (merge
# ignores an annotation file without --images: it only gave the ids).
merge_inputs=() annotations="" segment_inputs=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --list|--images) merge_inputs+=("$1" "$2"); shift 2 ;;
    --annotations) annotations="$2"; merge_inputs+=("$1" "$2"); shift 2 ;;
    *) merge_inputs+=(--inputs "$1"); shift ;;
  esac
done
common=(--parsable)
[ -n "$partition" ] && common+=(--partition "$partition")
[ -n "$time" ] && common+=(--time "$time")
read -r -a more <<<"$extra"
resources=(--cpus-per-task "$cpus")
[ "$gpus" -gt 0 ] && resources+=(--gpus-per-task "$gpus")
array=$(sbatch "${common[@]}" "${more[@]}" "${resources[@]}" --array "0-$((tasks - 1))" --requeue \
  --output "$out/segment-%A_%a.log" \
  --export "ALL,OUT=$out,NATIVESEG=$nativeseg,MODEL=$model,DEVICE=${device:-$([ "$gpus" -gt 0 ] && echo cuda || echo cpu)},BATCH=$batch" \
  "$here/segment-array.sbatch" "${segment_inputs[@]}")
merge=$(sbatch "${common[@]}" "${more[@]}" --cpus-per-task 1 --dependency "afterok:$array" --output "$out/merge-%j.log" \
  --export "ALL,OUT=$out,TASKS=$tasks,NATIVESEG=$nativeseg,ANNOTATIONS=$annotations" \
  "$here/merge-eval.sbatch" "${merge_inputs[@]}")
echo "array $array"
echo "merge $merge"
