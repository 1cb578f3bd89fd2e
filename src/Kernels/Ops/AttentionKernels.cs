using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>
/// Causal grouped-query attention of a right-padded batch without a T×T matrix in memory: query head h reads
/// key/value head h / (heads / kvHeads); rows at or past a sequence's length give zeros.
/// </summary>
public static class AttentionKernels
{
    /// <summary>Largest head dimension the op takes (the ILGPU kernels keep a row of q in registers).</summary>
    public const int MaxHeadDim = 256;

    /// <summary>
    /// Runs the forward pass for a right-padded batch. <paramref name="lse"/> ([B·T, heads])
    /// receives the log-sum-exp per row for training; pass an empty view for inference.
    /// </summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths, ArrayView<float> o,
        ArrayView<float> lse, int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        CheckHeadDim(headDim);
        using var timer = device.Time("attention.forward", 2.0 * batch * heads * seqLen * (seqLen + 1.0) * headDim, 4.0 * batch * seqLen * (2 * heads + 2 * kvHeads) * headDim);
        device.Backend.AttentionForward(q, k, v, lengths, o, lse, batch, seqLen, heads, kvHeads, headDim);
    }

    /// <summary>
    /// Launches the backward pass: dq, dk, dv (written) from dO, given the forward's q, k, v, o and
    /// lse. <paramref name="dotScratch"/> holds [B·T, heads] floats.
    /// </summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<int> lengths,
        ArrayView<float> o, ArrayView<float> lse, ArrayView<float> dO, ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv,
        ArrayView<float> dotScratch, int batch, int seqLen, int heads, int kvHeads, int headDim)
    {
        CheckHeadDim(headDim);
        using var timer = device.Time("attention.backward", 5.0 * batch * heads * seqLen * (seqLen + 1.0) * headDim, 4.0 * batch * seqLen * (4 * heads + 4 * kvHeads) * headDim);
        device.Backend.AttentionBackward(q, k, v, lengths, o, lse, dO, dq, dk, dv, dotScratch, batch, seqLen, heads, kvHeads, headDim);
    }

    private static void CheckHeadDim(int headDim)
    {
        if (headDim > MaxHeadDim) throw new ArgumentOutOfRangeException(nameof(headDim), $"head dimension {headDim} exceeds {MaxHeadDim}");
    }
}
