using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void LoraAddUpProjection(ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale) =>
        SimdGemm.Multiply(Strided<float>.RowMajor(Host(u), rank), Strided<F32>.Transposed(Host(b.Cast<F32>()), rank),
            Host(y), 0, n, m, n, rank, scale, accumulate: true);

    public void LoraBackwardUp(ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b, ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale)
    {
        var (dyh, bh) = (Host(dy), Host(b));
        // Bᵀ [rank, n] in the calling thread's scratch slot 1, so du's rows are dot products with its rows.
        var bT = Simd.Scratch(1, rank * n);
        for (int row = 0; row < n; row++)
            for (int j = 0; j < rank; j++) bT[j * n + row] = bh[(long)row * rank + j];
        SimdRankProducts.RowDots(dyh, HostSpan<float>.Pinned(bT), Host(du), m, rank, n, scale, accumulate: false);
        SimdRankProducts.SumOuter(Host(u), dyh, Host(dB), m, rank, n, scale, accumulate: true, transposedOutput: true);
    }

    public void LoraBackwardDown(ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank) =>
        SimdRankProducts.SumOuter(Host(du), Host(x), Host(dA), m, rank, k, 1f, accumulate: true, transposedOutput: false);
}
