#!/usr/bin/env bash
# Packs the libraries (scripts/pack.sh) and builds and runs examples/ScoreLeads against those packages:
# a host that references LeadEngine.LeadScoring 0.1.0 from the local feed, not the source tree, scoring
# leads with an adapter trained here on a small synthetic funnel (the built-in model, pointwise heads only).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/pack.sh
rm -rf artifacts/example-packages
leadengine() { dotnet run --project src/Cli -c Release --no-launch-profile -- "$@"; }
leadengine generate-leads --count 800 --seed 7 --out artifacts/example-leads.csv > /dev/null
leadengine train --data artifacts/example-leads.csv --out artifacts/example-adapter --heads-only > /dev/null
dotnet run --project examples/ScoreLeads -c Release -- artifacts/example-adapter artifacts/example-leads.csv
