#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after bench/gpu-publish.sh was carried over
# (artifacts/leadengine-linux-x64.tar.xz). Writes its results to ${OUT:-artifacts/gpu}.
#   bench/gpu-run.sh           everything: CUDA correctness, every kernel benchmark, three end-to-end models, two profiles
#   bench/gpu-run.sh --short   one device call (~6 min, at most 8 result files): correctness first, then chosen shapes
# The BF16 tensor-core kernels are checked against the C# references before anything else; the runs with them on
# (LEADENGINE_TENSOR_CORES=1) happen only when that check passed.
# PyTorch (bench/gpu-peers.py) runs on the weights the e2e bench wrote. Correctness is the kernel tests' references and the golden forward and objective on CUDA (the published
# test runner with LEADENGINE_TEST_DEVICES=cuda,simd) and `selfcheck`; each later step has its own time limit
# and a failing step does not stop the others (its exit status is written beside its output).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
short=0
[[ "${1:-}" == "--short" ]] && short=1
out="${OUT:-artifacts/gpu}"
mkdir -p "$out" artifacts/run
tar -C artifacts/run -xJf artifacts/leadengine-linux-x64.tar.xz || exit 1
bin=artifacts/run/linux-x64

# step NAME FILE SECONDS COMMAND...: runs COMMAND under a time limit, appending its output to $out/FILE.
step() {
  local name="$1" file="$2" limit="$3"; shift 3
  echo "== $name ($(date -u +%H:%M:%S), limit ${limit}s): $*" | tee -a "$out/$file"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$out/$file"
  local rc="${PIPESTATUS[0]}"
  echo "== $name: exit $rc" | tee -a "$out/$file"
  return "$rc"
}

{ date -u; nvidia-smi; nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit --format=csv; } > "$out/machine.txt" 2>&1
export LEADENGINE_TEST_DEVICES=cuda,simd
# First the tensor-core kernels (mma.sync through inline PTX, never run before a GPU run checks them): they stay off
# (LEADENGINE_TENSOR_CORES) in every later step unless this passes.
tensor_cores=0
step "tensor-core kernels against the C# references (CUDA mma.sync)" correctness.txt 60 \
  "$bin/LeadEngine.Tests" -class LeadEngine.Tests.Kernels.TensorCoreKernelTests -class LeadEngine.Tests.Kernels.MmaFragmentsTests -parallel none -noColor \
  && tensor_cores=1
step "kernel references on CUDA" correctness.txt 90 "$bin/LeadEngine.Tests" -namespace LeadEngine.Tests.Kernels -parallel none -noColor
step "golden forward and objective on CUDA" correctness.txt 70 "$bin/LeadEngine.Tests" -class LeadEngine.Tests.GoldenForwardTests -class LeadEngine.Tests.GoldenObjectiveTests -parallel none -noColor
unset LEADENGINE_TEST_DEVICES
step "selfcheck" correctness.txt 30 "$bin/leadengine" selfcheck --device cuda

if (( short )); then
  export LEADENGINE_BENCH_SHORT=1
  step "kernel benchmarks (chosen shapes)" kernels.txt 120 env LEADENGINE_DEVICE=cuda "$bin/LeadEngine.Bench" --filter '*MatMul*' '*Attention*' '*NormAndActivation*' --artifacts /tmp/bdn
  step "end to end, Qwen2.5-0.5B shapes" e2e.txt 80 env LEADENGINE_DEVICE=cuda "$bin/LeadEngine.Bench" e2e --model qwen2.5-0.5b --seq 256,2000 --batch 8 --seconds 2
  (( tensor_cores )) && step "end to end, Qwen2.5-0.5B shapes, BF16 tensor cores" e2e.txt 60 \
    env LEADENGINE_DEVICE=cuda LEADENGINE_TENSOR_CORES=1 "$bin/LeadEngine.Bench" e2e --model qwen2.5-0.5b --seq 256,2000 --batch 8 --seconds 2
  step "PyTorch on the same weights" pytorch.txt 60 python3 bench/gpu-peers.py --model weights/random/qwen2.5-0.5b --seq 256,2000 --batch 8 --seconds 1
  step "profile, scoring" profile.txt 30 "$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --batch 8 --seq 256
  step "profile, training step" profile.txt 40 "$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --train --batch 2 --seq 1000
else
  step "kernel benchmarks" kernels.txt 1800 env LEADENGINE_DEVICE=cuda "$bin/LeadEngine.Bench" --filter '*' --artifacts "$out/kernels"
  for model in tiny qwen2.5-0.5b qwen2.5-1.5b; do
    step "end to end, $model" "e2e-$model.txt" 900 env LEADENGINE_DEVICE=cuda "$bin/LeadEngine.Bench" e2e --model "$model"
  done
  for model in qwen2.5-0.5b qwen2.5-1.5b; do
    step "PyTorch, $model" "pytorch-$model.txt" 600 python3 bench/gpu-peers.py --model "weights/random/$model" --seq 256,2000 --batch 1,8,32
  done
  step "profile, scoring" profile.txt 300 "$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --batch 8 --seq 256
  (( tensor_cores )) && step "profile, scoring, BF16 tensor cores" profile.txt 300 \
    env LEADENGINE_TENSOR_CORES=1 "$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --batch 8 --seq 256
  step "profile, training step" profile.txt 300 "$bin/leadengine" profile --model qwen2.5-0.5b --device cuda --train --batch 2 --seq 1000
fi
ls -l "$out"
