#!/usr/bin/env bash
# llama.cpp as a peer for tests and benchmarks (never a dependency of LeadEngine itself): the prebuilt CPU
# libraries of node-llama-cpp (npm; pinned, the version npm resolves here without building) in .cache/llama-cpp.
# Prints that folder on the last line of standard output; on failure says why on standard error and exits
# non-zero (the llama.cpp tests then skip and say so). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.cache/llama-cpp"
version="3.21.1"
if [ ! -f "$dest/node_modules/node-llama-cpp/package.json" ]; then
  command -v npm >/dev/null || { echo "llama-cpp: npm not found; install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
  mkdir -p "$dest"
  cd "$dest"
  [ -f package.json ] || echo '{"name":"leadengine-llama-cpp-peer","private":true,"type":"module"}' > package.json
  # Only the linux-x64 CPU build: the CUDA and Vulkan builds are optional dependencies, and nothing here builds from source.
  npm install --no-audit --no-fund --loglevel=error --omit=optional -E "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >/dev/null
fi
echo "$dest"
