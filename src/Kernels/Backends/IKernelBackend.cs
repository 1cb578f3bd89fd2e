using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>
/// The op set every backend implements, with the same signatures (as ggml keeps ggml-cpu and ggml-cuda
/// behind one op set): <see cref="IlgpuBackend"/> (Backends/Ilgpu: the ILGPU kernels, on CUDA, OpenCL or
/// ILGPU's CPU accelerator) and <see cref="SimdBackend"/> (Backends/Simd: System.Numerics.Tensors code over
/// host buffers). The public launchers (<c>MatMulKernels.LaunchForward</c> and the others, in Ops/) check
/// shapes, time the launch and call the device's backend, so a new backend (say, CUDA-only inline-PTX tensor
/// cores) is one more folder, not one more branch in every op. Shapes and formulas are on the launchers;
/// every op is checked on every backend against one plain C# reference (tests/Kernels).
/// </summary>
internal interface IKernelBackend
{
    /// <summary>x += y over <paramref name="count"/> elements.</summary>
    void Residual(ArrayView<float> x, ArrayView<float> y, long count);

    /// <summary>y = silu(gate)·up.</summary>
    void SwiGluForward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count);

    /// <summary>dgate = dy·up·silu'(gate), dup = dy·silu(gate).</summary>
    void SwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count);

    /// <summary>y = x / √(mean(x²) + eps) · w per row.</summary>
    void RmsNormForward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int rows, int hidden, float eps) where TW : unmanaged, IWeight;

    /// <summary>dx += the input gradient of RMSNorm (frozen weight).</summary>
    void RmsNormBackward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int hidden, float eps) where TW : unmanaged, IWeight;

    /// <summary>Rotate-half RoPE in place by +angle (<paramref name="sinSign"/> 1) or −angle (−1, the backward).</summary>
    void Rope(ArrayView<float> x, ArrayView<float> cos, ArrayView<float> sin, int rows, int seqLen, int heads, int headDim, float sinSign);

    /// <summary>y[r] = table[ids[r]] widened to fp32.</summary>
    void GatherRows<TW>(ArrayView<int> ids, ArrayView<TW> table, ArrayView<float> y, int rows, int width) where TW : unmanaged, IWeight;

    /// <summary>y[rowIndices[r]] = source[r].</summary>
    void ScatterRows(ArrayView<int> rowIndices, ArrayView<float> source, ArrayView<float> y, int rows, int width);

    /// <summary>
    /// y = x·Wᵀ + bias, u = x·Aᵀ and, with <paramref name="loraB"/>, y += scale·u·Bᵀ; a nonzero
    /// <paramref name="loraFoldId"/> (given only to a backend that <see cref="FoldsFrozenAdapters"/>) says to fold the
    /// adapter into the packed weight instead (u is then not written).
    /// </summary>
    void MatMulForward<TW>(ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> loraA, ArrayView<float> y, ArrayView<float> loraU,
        int m, int n, int k, int loraRank, bool frozenWeights, ArrayView<float> loraB, float loraScale, long loraFoldId) where TW : unmanaged, IWeight;

    /// <summary>dx (+)= dy·W + du·A.</summary>
    void MatMulBackwardInput<TW>(ArrayView<float> dy, ArrayView<float> du, ArrayView<TW> w, ArrayView<float> loraA, ArrayView<float> dx,
        int m, int n, int k, int loraRank, bool accumulate, bool frozenWeights) where TW : unmanaged, IWeight;

    /// <summary>y += scale·u·Bᵀ.</summary>
    void LoraAddUpProjection(ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale);

    /// <summary>du = scale·dy·B (written), dB += scale·dyᵀ·u.</summary>
    void LoraBackwardUp(ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b, ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale);

    /// <summary>dA += duᵀ·x.</summary>
    void LoraBackwardDown(ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank);

    /// <summary>Causal GQA attention of a right-padded batch; lse per row when <paramref name="lse"/> is not empty.</summary>
    void AttentionForward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse,
        int batch, int seqLen, int heads, int kvHeads, int headDim);

    /// <summary>dq, dk, dv (written) from dO.</summary>
    void AttentionBackward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o, ArrayView<float> lse,
        ArrayView<float> dO, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dotScratch,
        int batch, int seqLen, int heads, int kvHeads, int headDim);

    /// <summary>Per-row cross-entropy into <paramref name="losses"/>; the logits are replaced by their scaled gradient.</summary>
    void CrossEntropy(ArrayView<float> logits, ArrayView<int> targets, ArrayView<float> losses, int rows, int vocab, float scale);

    /// <summary>LM logits (all rows or the listed tokens) and the two score heads with their feature part.</summary>
    void HeadForward<TW>(ArrayView<float> hidden, ArrayView<TW> lmWeight, ArrayView<int> tokenIds, ArrayView<float> scoreWeight, ArrayView<float> scoreBias,
        ArrayView<float> features, ArrayView<float> featureWeight, ArrayView<float> logits, ArrayView<float> scores,
        int batch, int hiddenSize, int vocab, int featureCount, bool frozenWeights) where TW : unmanaged, IWeight;

    /// <summary>dHidden (written) and the score-head gradients (accumulated).</summary>
    void HeadBackward(ArrayView<float> hidden, ArrayView<float> dLmHidden, ArrayView<float> scoreWeight, ArrayView<float> dScores, ArrayView<float> dHidden,
        ArrayView<float> dScoreWeight, ArrayView<float> dScoreBias, ArrayView<float> features, ArrayView<float> dFeatureWeight,
        int batch, int hiddenSize, int featureCount);

    /// <summary>One AdamW step over every element of <paramref name="p"/>.</summary>
    void AdamW(ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs args);

    /// <summary>result[0] += Σ x².</summary>
    void SumOfSquares(ArrayView<float> x, ArrayView<float> result);

    /// <summary>
    /// Whether the backend folds a frozen LoRA adapter into its packed copy of the frozen weight (then
    /// <see cref="MatMulForward"/> with a nonzero fold id runs one product over W + scale·B·A).
    /// </summary>
    bool FoldsFrozenAdapters { get; }

    /// <summary>Drops cached copies of frozen weights (all, or those with the adapter <paramref name="foldId"/> folded in).</summary>
    void ReleasePackedWeights(long? foldId);
}
