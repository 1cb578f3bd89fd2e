#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after bench/gpu-publish.sh was carried over
# (artifacts/leadengine-linux-x64.tar.xz): CUDA correctness against the golden outputs, the kernel
# benchmarks on CUDA, the per-kernel profile and the end-to-end comparison with ONNX Runtime.
# Writes everything to ${OUT:-artifacts/gpu}.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${OUT:-artifacts/gpu}"
mkdir -p "$out" artifacts/run
tar -C artifacts/run -xJf artifacts/leadengine-linux-x64.tar.xz
bin=artifacts/run/linux-x64
nvidia-smi | tee "$out/nvidia-smi.txt"
"$bin/leadengine" selfcheck --device cuda | tee "$out/selfcheck-cuda.txt"
LEADENGINE_DEVICE=cuda "$bin/LeadEngine.Bench" --filter '*' --artifacts "$out/kernels" | tee "$out/kernels.txt"
for model in tiny qwen2.5-0.5b qwen2.5-1.5b; do
  LEADENGINE_DEVICE=cuda "$bin/LeadEngine.Bench" e2e --model "$model" | tee "$out/e2e-$model.txt"
done
"$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --batch 8 --seq 256 | tee "$out/profile-forward.txt"
"$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --train --batch 2 --seq 1000 | tee "$out/profile-train.txt"
