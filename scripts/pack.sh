#!/usr/bin/env bash
# Packs the four libraries (kernels, engine, training, lead scoring) with XML docs and SourceLink symbol
# packages into artifacts/packages, the local feed examples/ restores from.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rm -rf artifacts/packages
for project in Kernels Engine Training LeadScoring; do
  dotnet pack "src/$project" -c Release -o artifacts/packages --nologo -v quiet
done
ls artifacts/packages
