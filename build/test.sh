#!/usr/bin/env bash
# The project's test command: builds the solution (warnings are errors) and the native library for C hosts
# (build/publish-native.sh, which the native-host tests link C programs against), then runs every test.
# Ends with a one-line "N passed, N failed, N skipped" summary.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! build/publish-native.sh artifacts/native; then
  echo "tests: the native library did not build (build/publish-native.sh)"
  exit 1
fi
export NATIVESEG_NATIVE_DIR="$PWD/artifacts/native"
log=$(mktemp)
dotnet test NativeSeg.sln -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E "^(Passed|Failed)!" "$log" | tail -n 1)
rm -f "$log"
passed=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*Failed: *([0-9]+),.*/\1/p' <<<"$summary")
skipped=$(sed -nE 's/.*Skipped: *([0-9]+).*/\1/p' <<<"$summary")
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
