#!/usr/bin/env bash
# Images per second of a Slurm job array against one process on the same machine, measured side by side on a
# throwaway single-node Slurm (local-cluster.sh; root, slurm-wlm and munge):
#   build/slurm/bench-array.sh NATIVESEG IMAGES_DIR [TASKS] [THREADS]
# runs `segment IMAGES_DIR` once as one process with THREADS CPU threads (default: every core), then as a TASKS-task
# array (default 4) of one core per task through submit.sh (wall time from submission to the last task's end), and
# prints both rates with each task's model loading and segmenting time from its log and Slurm's start and end times.
set -euo pipefail
nativeseg="$1" images="$(cd "$2" && pwd)" tasks="${3:-4}" threads="${4:-$(nproc)}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/nativeseg-bench-array.XXXXXX)"
trap '"$here/local-cluster.sh" stop "$work/slurm" >/dev/null 2>&1 || true' EXIT
count=$(find "$images" -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) | wc -l)

start=$(date +%s.%N)
NATIVESEG_THREADS="$threads" "$nativeseg" segment "$images" --device cpu --out "$work/one" --json "$work/one/results.jsonl" >"$work/one.log"
end=$(date +%s.%N)
one=$(awk "BEGIN { print $end - $start }")

"$here/local-cluster.sh" start "$work/slurm"
export SLURM_CONF="$work/slurm/slurm.conf"
start=$(date +%s.%N)
submitted=$("$here/submit.sh" --tasks "$tasks" --cpus-per-task 1 --out "$work/array" --nativeseg "$nativeseg" --device cpu -- "$images")
array=$(sed -n 's/^array //p' <<<"$submitted")
while squeue -h -j "$array" 2>/dev/null | grep -q .; do sleep 0.05; done
end=$(date +%s.%N)
wall=$(awk "BEGIN { print $end - $start }")
while squeue -h 2>/dev/null | grep -q .; do sleep 0.2; done
# Slurm's own times per task (1 s resolution): from submission to start is queueing and launch.
submit_time=$(scontrol show job "${array}_0" | sed -n 's/.*SubmitTime=\([^ ]*\).*/\1/p')
for ((t = 0; t < tasks; t++)); do
  scontrol show job "${array}_$t" | tr ' ' '\n' | grep -E '^(StartTime|EndTime|RunTime)=' | tr '\n' ' ' | sed "s|^|  task $t (submitted $submit_time): |"
  echo
done >"$work/times.txt"

printf 'one process, %s threads: %d images in %.1f s = %.2f images/s\n' "$threads" "$count" "$one" "$(awk "BEGIN { print $count / $one }")"
printf '%d array tasks, 1 core each: %d images in %.1f s = %.2f images/s (submission to last task end)\n' "$tasks" "$count" "$wall" "$(awk "BEGIN { print $count / $wall }")"
grep -h -E "loaded in|images.*instances in" "$work/one.log" | sed 's/^/  one process: /'
for log in "$work"/array/segment-*.log; do
  grep -h -E "loaded in|images.*instances in" "$log" | sed "s|^|  $(basename "$log" .log): |"
done
cat "$work/times.txt"
"$here/local-cluster.sh" stop "$work/slurm" >/dev/null
trap - EXIT
rm -rf "$work"
