#!/usr/bin/env bash
# Publishes the CLI, the benchmarks and the test runner (xunit.v3: an executable) self-contained for linux-x64 (the GPU machine has the NVIDIA
# driver and CUDA but no dotnet) and packs them into one archive under the 64 MiB carry limit:
#   bench/gpu-publish.sh                       -> artifacts/leadengine-linux-x64.tar.xz
# On the GPU machine, from the repository root:  bench/gpu-run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=artifacts/publish/linux-x64
rm -rf "$out" && mkdir -p "$out"
dotnet publish src/Cli -c Release -r linux-x64 --self-contained -o "$out" --nologo -v quiet
dotnet publish bench -c Release -r linux-x64 --self-contained -o "$out" --nologo -v quiet
dotnet publish tests -c Release -r linux-x64 --self-contained -o "$out" --nologo -v quiet
# The ONNX Runtime package also drops its Windows native library; it is dead weight on Linux.
find "$out" -maxdepth 1 -name '*.dll' -exec sh -c 'file "$1" | grep -q "MS Windows" && ! file "$1" | grep -q "Mono/.Net" && rm "$1"' _ {} \;
# Native libraries the GPU run never loads, dropped to stay under the carry limit: BenchmarkDotNet's
# disassembler (capstone, for its disassembly diagnoser), the chart renderer (Skia, HarfBuzz: reports are
# drawn on the CPU side), ML.NET's LDA, the standalone GC variants, LTTng tracing and the managed debugger.
for lib in libcapstone libSkiaSharp libHarfBuzzSharp libLdaNative libclrgc libclrgcexp libcoreclrtraceptprovider libmscordbi libmscordaccore; do
  rm -f "$out/$lib.so"
done
# OR-Tools and what it brings (68 MB): the call planner's solver, and the GPU run plans no calls.
rm -f "$out"/google-ortools-native.so "$out"/libortools.so.* "$out"/libscip.so.* "$out"/libhighs.so.* "$out"/libCbc*.so.* "$out"/libClp*.so.* \
  "$out"/libCgl.so.* "$out"/libCoinUtils.so.* "$out"/libOsi*.so.* "$out"/libabsl_*.so.* "$out"/libprotobuf.so.* "$out"/libre2.so.* "$out"/libutf8_validity.so.*
tar -C artifacts/publish -cf - linux-x64 | xz -T0 -9 > artifacts/leadengine-linux-x64.tar.xz
bytes=$(stat -c %s artifacts/leadengine-linux-x64.tar.xz)
echo "artifacts/leadengine-linux-x64.tar.xz: $((bytes / 1048576)) MiB"
if (( bytes > 64 * 1048576 )); then echo "over the 64 MiB carry limit" >&2; exit 1; fi
