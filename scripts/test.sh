#!/usr/bin/env bash
# Runs the whole test suite on ILGPU's CPU accelerator (no GPU needed). Installs what it needs first,
# PostgreSQL included.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# PostgreSQL for the feedback-store tests: a throwaway server from Debian's package (scripts/postgres.sh).
# Without one, those tests skip and say why.
if pg="$(scripts/postgres.sh | tail -1)"; then
  export LEADENGINE_TEST_POSTGRES="$pg"
  trap 'scripts/postgres.sh stop; rm -f "$log"' EXIT
else
  echo "test: PostgreSQL could not be started (see above); the PostgreSQL tests will skip" >&2
fi
# llama.cpp's prebuilt CPU build (npm) for the GGUF export's agreement test; without it that test skips and says why.
if llama="$(scripts/llama-cpp.sh | tail -1)"; then
  export LEADENGINE_TEST_LLAMA_CPP="$llama"
else
  echo "test: llama.cpp could not be installed (see above); the GGUF agreement test will skip" >&2
fi
status=0
dotnet test LeadEngine.sln -c Release --nologo "$@" 2>&1 | tee "$log" || status=$?
# The SIMD backend picks 512- or 256-bit register tiles by the CPU: run the kernel tests again with
# 512-bit vectors off, so the 256-bit path is tested on AVX-512 machines too.
DOTNET_PreferredVectorBitWidth=256 dotnet test LeadEngine.sln -c Release --nologo --no-build \
    --filter "FullyQualifiedName~LeadEngine.Tests.Kernels" "$@" 2>&1 | tee -a "$log" || status=$?
# The house style (.editorconfig): formatting that drifted fails the run, naming the file and line.
dotnet format whitespace LeadEngine.sln --verify-no-changes 2>&1 | tee -a "$log" || status=$?
# The packages a host references: pack them and build and run examples/ScoreLeads from the local feed.
scripts/examples.sh 2>&1 | tee -a "$log" || status=$?
# One plain summary line over all test assemblies: "tests: N passed, N failed, N skipped".
awk '/(Passed|Failed)! +- +Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
