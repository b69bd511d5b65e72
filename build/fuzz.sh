#!/usr/bin/env bash
# Fuzzes the file readers: afl-fuzz (Debian's afl++) drives tests/NativeSeg.Fuzz over a copy of
# NativeSeg.Engine instrumented by SharpFuzz, starting from tests/NativeSeg.Fuzz/corpus/TARGET, with the
# tokens of tests/NativeSeg.Fuzz/dictionaries/ where the target has some.
#   build/fuzz.sh TARGET|all SECONDS [OUTPUT]    SECONDS per target; OUTPUT defaults to artifacts/fuzz
# Prints one line of counts per target. Each saved crash is replayed in-process to print its exception;
# each saved hang is replayed with a 30 s limit, so that a slow moment of a busy machine is not reported.
# Exits 1 if any target has a crash or a hang that replays, with the inputs left under OUTPUT/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
  echo "usage: build/fuzz.sh TARGET|all SECONDS [OUTPUT]" >&2
  exit 2
fi
chosen=$1 seconds=$2 out=${3:-artifacts/fuzz}
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: build/install-deps.sh installs afl++" >&2; exit 2; }

# afl-fuzz runs the instrumented copy; replays run the plain one, as SharpFuzz's probes write to afl's
# shared memory, which only exists under afl-fuzz.
rm -rf "$out/plain" "$out/instrumented"
dotnet publish tests/NativeSeg.Fuzz -c Release -o "$out/plain" --nologo -v quiet
cp -r "$out/plain" "$out/instrumented"
dotnet tool restore >/dev/null
dotnet sharpfuzz "$out/instrumented/NativeSeg.Engine.dll"
fuzz=(dotnet "$out/instrumented/NativeSeg.Fuzz.dll")
replay=(dotnet "$out/plain/NativeSeg.Fuzz.dll")
targets=$("${replay[@]}" list)
if [ "$chosen" != all ]; then
  grep -qx -- "$chosen" <<<"$targets" || { echo "unknown target '$chosen'; the targets: all" $targets >&2; exit 2; }
  targets=$chosen
fi

# dotnet itself carries no AFL instrumentation (SharpFuzz's is in the managed code), CI machines neither
# pin CPUs nor set a crash core pattern, and the log is a file rather than a terminal.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

failed=0
for target in $targets; do
  run=$out/$target
  rm -rf "$run"
  mkdir -p "$run/tmp"
  # A target's dictionary is named for its format family (coco-annotations and coco-results share coco.dict).
  dictionary=tests/NativeSeg.Fuzz/dictionaries/${target%%-*}.dict
  options=()
  [ -f "$dictionary" ] && options=(-x "$dictionary")
  # -t: per-input time limit in ms, far above the usual sub-millisecond execution; -m none: .NET reserves
  # more address space than afl's default memory limit.
  if ! TMPDIR=$run/tmp afl-fuzz -i "tests/NativeSeg.Fuzz/corpus/$target" -o "$run" -t 5000 -m none -V "$seconds" "${options[@]}" \
      -- "${fuzz[@]}" "$target" >"$run/afl.log" 2>&1; then
    echo "$target: afl-fuzz failed; the end of $run/afl.log:" >&2
    tail -n 20 "$run/afl.log" >&2
    failed=1
    continue
  fi
  stat() { sed -nE "s/^$1 +: (.*)/\1/p" "$run/default/fuzzer_stats"; }
  hangs=0
  for input in "$run"/default/hangs/id:*; do
    [ -e "$input" ] || continue
    if ! timeout 30 "${replay[@]}" "$target" --replay "$input" >/dev/null; then
      echo "$target: hang $input"
      hangs=$((hangs + 1))
    fi
  done
  crashes=0
  for input in "$run"/default/crashes/id:*; do
    [ -e "$input" ] || continue
    crashes=$((crashes + 1))
    timeout 30 "${replay[@]}" "$target" --replay "$input" | head -n 12 || true
  done
  echo "$target: $(stat execs_done) executions in $(stat run_time) s, corpus $(stat corpus_count) (found $(stat corpus_found)), $(stat edges_found) edges, $crashes crashes, $hangs hangs"
  [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ] || failed=1
done
exit "$failed"
