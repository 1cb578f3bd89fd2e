using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    /// <summary>
    /// SIMD CPU forward: u = x·Aᵀ, then y = x·Wᵀ + scale·u·Bᵀ in one blocked product, then the bias; or, with a
    /// frozen adapter to fold (<paramref name="loraFoldId"/> nonzero), y = x·(W + scale·B·A)ᵀ from a packed folded
    /// copy: a folded adapter costs nothing per call.
    /// </summary>
    public void MatMulForward<TW>(ArrayView<float> xView, ArrayView<TW> wView, ArrayView<TW> biasView, ArrayView<float> aView, ArrayView<float> yView,
        ArrayView<float> uView, int m, int n, int k, int rank, bool frozen, ArrayView<float> loraB, float loraScale, long loraFoldId)
        where TW : unmanaged, IWeight
    {
        var x = Strided<float>.RowMajor(Host(xView), k);
        var y = Host(yView);
        var w = Strided<TW>.Transposed(Host(wView), k);
        if (_device.Precision is var precision and not Precision.F32 && frozen && (loraFoldId != 0 || rank == 0))
        {
            var weights = PackedReducedWeights(wView, precision, () => loraFoldId != 0
                ? WithFolded(wView, aView, loraB, n, k, rank, loraScale, merged => ReducedGemm.PackAll(merged, n, k, precision))
                : ReducedGemm.PackAll(w, n, k, precision), loraFoldId);
            ReducedGemm.Multiply(x.Data, weights, y, m, n, k);
            AddBias(biasView, y, m, n);
            return;
        }
        if (loraFoldId != 0)
        {
            var folded = PackedWeights(wView, transposed: true, () => WithFolded(wView, aView, loraB, n, k, rank, loraScale, merged => SimdGemm.PackAll(merged, n, k)), loraFoldId);
            SimdGemm.Multiply(x, w, y, 0, n, m, n, k, 1f, accumulate: false, packed: folded);
            AddBias(biasView, y, m, n);
            return;
        }
        if (rank > 0) SimdRankProducts.RowDots(x.Data, Host(aView), Host(uView), m, rank, k, 1f, accumulate: false);
        ExtraProduct? up = loraB.Length > 0
            ? new ExtraProduct(Strided<float>.RowMajor(Host(uView), rank), Strided<F32>.Transposed(Host(loraB.Cast<F32>()), rank), rank, loraScale)
            : null;
        var packed = frozen ? PackedWeights(wView, transposed: true, () => SimdGemm.PackAll(w, n, k)) : null;
        SimdGemm.Multiply(x, w, y, 0, n, m, n, k, 1f, accumulate: false, packed: packed, extra: up);
        AddBias(biasView, y, m, n);
    }

    /// <summary>y[m, n] += bias on every row (no bias when the view is empty).</summary>
    private static void AddBias<TW>(ArrayView<TW> biasView, HostSpan<float> y, int m, int n) where TW : unmanaged, IWeight
    {
        if (biasView.Length == 0) return;
        var bias = new float[n];
        WeightRows.Widen(Host(biasView), 0, bias);
        Simd.ForRows(m, n, (first, count) =>
        {
            for (int row = first; row < first + count; row++)
                System.Numerics.Tensors.TensorPrimitives.Add(y.Slice((long)row * n, n), bias, y.Slice((long)row * n, n));
        });
    }

    [ThreadStatic] private static float[]? t_merged;

    /// <summary>
    /// W + scale·B·A in fp32 ([n, k], W widened) handed to <paramref name="pack"/> as the operand of x·(…)ᵀ: a frozen
    /// adapter folded into its base weight, packed in the precision's format.
    /// </summary>
    private static TPacked WithFolded<TW, TPacked>(ArrayView<TW> wView, ArrayView<float> aView, ArrayView<float> bView,
        int n, int k, int rank, float scale, Func<Strided<F32>, TPacked> pack)
        where TW : unmanaged, IWeight
    {
        // One buffer per thread, grown to the largest weight: a fresh array per matrix left the GC holding about
        // 450 MB of them after a 0.5B model's packing (the int8 scorer's peak resident memory fell from 1,940 to 1,497 MB).
        var merged = t_merged is { } held && held.Length >= n * k ? held : t_merged = GC.AllocateUninitializedArray<float>(n * k, pinned: true);
        var mergedFloats = HostSpan<float>.Pinned(merged);
        var weights = Host(wView);
        Simd.ForRows(n, k, (first, count) =>
        {
            for (int row = first; row < first + count; row++) WeightRows.Widen(weights, (long)row * k, mergedFloats.Slice((long)row * k, k));
        });
        LoraMerge.IntoWeight(merged, Host(aView).Slice(0, rank * k).ToArray(), Host(bView).Slice(0, n * rank).ToArray(), n, k, rank, scale);
        var packed = pack(Strided<F32>.Transposed(mergedFloats.As<F32>(), k));
        GC.KeepAlive(merged);
        return packed;
    }

    /// <summary>SIMD CPU input gradient: dx (+)= dy·W + du·A in one blocked product.</summary>
    public void MatMulBackwardInput<TW>(ArrayView<float> dyView, ArrayView<float> duView, ArrayView<TW> wView,
        ArrayView<float> aView, ArrayView<float> dxView, int m, int n, int k, int rank, bool accumulate, bool frozen)
        where TW : unmanaged, IWeight
    {
        var dx = Host(dxView);
        var w = Strided<TW>.RowMajor(Host(wView), k);
        var packed = frozen ? PackedWeights(wView, transposed: false, () => SimdGemm.PackAll(w, k, n)) : null;
        // du·A (depth: the rank) is summed into the same register tiles as dy·W.
        ExtraProduct? down = rank > 0
            ? new ExtraProduct(Strided<float>.RowMajor(Host(duView), rank), Strided<F32>.RowMajor(Host(aView.Cast<F32>()), k), rank, 1f)
            : null;
        SimdGemm.Multiply(Strided<float>.RowMajor(Host(dyView), n), w, dx, 0, k, m, k, n, 1f, accumulate, packed: packed, extra: down);
    }
}
