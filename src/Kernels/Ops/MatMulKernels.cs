using System.Runtime.CompilerServices;
using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>Projections against a stored weight matrix with an optional LoRA adapter: <c>y = x·Wᵀ + b + scale·(x·Aᵀ)·Bᵀ</c>, and the input gradient.</summary>
public static class MatMulKernels
{
    /// <summary>
    /// Launches <c>y[M,N] = x[M,K]·W[N,K]ᵀ (+ bias)</c> with the LoRA down path <c>u[M,r] = x·Aᵀ</c>. Pass empty views for <paramref name="bias"/> (no bias)
    /// and for <paramref name="loraA"/>/<paramref name="loraU"/> (no adapter). With <paramref name="loraB"/>, also
    /// adds the LoRA up-projection y += scale·u·Bᵀ (fused into the same product on the SIMD backend, a
    /// second kernel on the ILGPU backend). <paramref name="frozenWeights"/> lets the
    /// SIMD backend keep a packed copy of W (see <see cref="ComputeDevice.ReleasePackedWeights"/>). A nonzero
    /// <paramref name="loraFoldId"/> says the adapter is frozen too, under that id: the SIMD backend then folds
    /// scale·B·A into its packed copy of W (as a merged export does) and skips the LoRA products, leaving
    /// <paramref name="loraU"/> unwritten; GPUs run the LoRA path as usual.
    /// </summary>
    public static void LaunchForward<TW>(
        ComputeDevice device, ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias,
        ArrayView<float> loraA, ArrayView<float> y, ArrayView<float> loraU, int m, int n, int k, int loraRank,
        bool frozenWeights = false, ArrayView<float> loraB = default, float loraScale = 0f, long loraFoldId = 0)
        where TW : unmanaged, IWeight
    {
        bool up = loraRank > 0 && loraB.Length > 0;
        // The one place the fold is decided: a frozen adapter (fold id) on frozen weights, on a backend that folds.
        bool fold = up && frozenWeights && loraFoldId != 0 && device.Backend.FoldsFrozenAdapters;
        // The work the backend runs: one product over the folded weight, or the base product with the LoRA down and up paths.
        double flops = fold ? 2.0 * m * n * k : 2.0 * m * (n + loraRank) * k + (up ? 2.0 * m * n * loraRank : 0);
        using var timer = device.Time("matmul.forward", flops, Traffic<TW>(m, n, k, fold ? 0 : loraRank));
        device.Backend.MatMulForward(x, w, bias, loraA, y, loraU, m, n, k, loraRank, frozenWeights, up ? loraB : default, loraScale, fold ? loraFoldId : 0);
    }

    /// <summary>
    /// Launches the input gradient: dx[m,k] (+)= dy·W (+ du·A when <paramref name="loraRank"/> &gt; 0).
    /// <paramref name="frozenWeights"/> lets the SIMD backend keep a packed copy of W.
    /// </summary>
    public static void LaunchBackwardInput<TW>(
        ComputeDevice device, ArrayView<float> dy, ArrayView<float> du, ArrayView<TW> w, ArrayView<float> loraA,
        ArrayView<float> dx, int m, int n, int k, int loraRank, bool accumulate, bool frozenWeights = false)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("matmul.backward_input", 2.0 * m * (n + loraRank) * k, Traffic<TW>(m, n, k, loraRank));
        device.Backend.MatMulBackwardInput(dy, du, w, loraA, dx, m, n, k, loraRank, accumulate, frozenWeights);
    }

    /// <summary>Least bytes a product over (m, n + rank, k) moves: fp32 activations in and out, stored weights once.</summary>
    private static double Traffic<TW>(int m, int n, int k, int rank) where TW : unmanaged, IWeight =>
        4.0 * m * (k + n + rank) + (double)Unsafe.SizeOf<TW>() * n * k;
}
