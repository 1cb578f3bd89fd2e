#!/usr/bin/env bash
# The CUDA path checked without a GPU: every kernel the ILGPU backend launches is compiled to PTX (bench ptx) and
# assembled by NVIDIA's ptxas for the H200 (sm_90) with -v. Fails on any assembly error or register spill; writes
# artifacts/ptx-check/report.md: kernel, registers per thread, shared memory (static from ptxas, dynamic from the launch
# shapes; attention at head dimension 128), spill bytes, and the occupancy that gives on an H100/H200 SM at the launch's
# group size.
# ptxas comes from Debian's nvidia-cuda-toolkit (11.8, non-free; about 1.6 GB), installed here where missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-artifacts/ptx-check}"

if ! command -v ptxas >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "ptx-check: ptxas is missing and this is not root with apt-get (Debian: nvidia-cuda-toolkit from non-free)" >&2
    exit 1
  fi
  echo "ptx-check: installing Debian's nvidia-cuda-toolkit (non-free, about 1.6 GB) for ptxas" >&2
  sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ] && ! grep -q "non-free" "$sources"; then
    sed -i 's/^Components: main$/Components: main contrib non-free/' "$sources"
  fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit >/dev/null
fi

rm -rf "$out"
mkdir -p "$out"
dotnet run -c Release --project bench -- ptx --out "$out/ptx" >&2

# H100/H200 SM (compute capability 9.0): 2,048 threads, 65,536 registers (allocated per warp in units of 256),
# 228 KB of shared memory (1 KB of it reserved per block), at most 32 groups.
status=0
{
  echo "| kernel | threads per group | registers per thread | shared memory (static + dynamic) | spill stores + loads | groups per SM | occupancy |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  while IFS=$'\t' read -r name group dynamic; do
    if ! info="$(ptxas -arch=sm_90 -v -o /dev/null "$out/ptx/$name.ptx" 2>&1)"; then
      echo "ptx-check: $name does not assemble:" >&2
      echo "$info" >&2
      status=1
      continue
    fi
    # "Used 32 registers, 2048 bytes smem" (no smem part when there is none); "0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads".
    read -r regs smem spills < <(awk '
      /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^registers/) r = $i; if ($(i+1) == "bytes" && $(i+2) ~ /^smem/) m = $i } }
      /spill stores/ { for (i = 1; i <= NF; i++) if ($(i+1) == "bytes" && $(i+2) == "spill") s += $i }
      END { print r + 0, m + 0, s + 0 }' <<<"$info")
    if [ "$spills" -gt 0 ]; then
      echo "ptx-check: $name spills $spills bytes" >&2
      status=1
    fi
    read -r groups occupancy < <(awk -v t="$group" -v r="$regs" -v s="$((smem + dynamic))" 'BEGIN {
      if (t == 0) { print "auto", "auto"; exit }
      warps = int((t + 31) / 32)
      perwarp = int((r * 32 + 255) / 256) * 256
      byThreads = int(2048 / t); byRegs = (perwarp == 0) ? 32 : int(65536 / (perwarp * warps))
      bySmem = int(233472 / (s + 1024)); g = byThreads
      if (byRegs < g) g = byRegs; if (bySmem < g) g = bySmem; if (g > 32) g = 32
      printf "%d %.0f%%\n", g, 100 * g * warps * 32 / 2048 }')
    echo "| $name | ${group/#0/auto} | $regs | $smem + $dynamic B | $spills B | $groups | $occupancy |"
  done < "$out/ptx/kernels.tsv"
} > "$out/report.md"
cat "$out/report.md"
[ "$status" = 0 ] && echo "ptx-check: $(($(wc -l < "$out/ptx/kernels.tsv"))) kernels assemble for sm_90 without spills" >&2
exit "$status"
