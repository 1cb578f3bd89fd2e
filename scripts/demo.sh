#!/usr/bin/env bash
# Sets up and runs the main job on the built-in default model: `leadengine demo`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
dotnet build src/Cli -c Release --nologo -v quiet >/dev/null
dotnet src/Cli/bin/Release/net10.0/leadengine.dll demo "$@"
