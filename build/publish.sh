#!/usr/bin/env bash
# Publishes the CLI as one self-contained, trimmed linux-x64 folder (publish/, git-ignored) that runs on
# a machine without .NET, e.g. a lent GPU machine (see build/gpu-check.sh).
# ARTIFACTS_PATH, when set, keeps intermediate build output out of the tree (parallel builds).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf publish
dotnet publish src/Cli -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -o publish/ \
  ${ARTIFACTS_PATH:+--artifacts-path "$ARTIFACTS_PATH"} "$@"
echo "published: $(du -sh publish | cut -f1) in publish/ (run publish/nativeseg info)"
