using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Shape of one projection <c>y[M,N] = x[M,K]·W[N,K]ᵀ (+ bias)</c> with an optional LoRA down path.</summary>
public struct MatMulArgs
{
    /// <summary>Rows of x and y (all tokens of the batch, flattened).</summary>
    public int M;
    /// <summary>Output features (rows of W).</summary>
    public int N;
    /// <summary>Input features.</summary>
    public int K;
    /// <summary>LoRA rank r; 0 when no adapter.</summary>
    public int LoraRank;
    /// <summary>1 when a bias is added.</summary>
    public int HasBias;
}

/// <summary>
/// Tiled shared-memory matmul against a stored weight matrix. Every thread owns a
/// <see cref="RegM"/>×<see cref="RegN"/> register tile; a group stages <see cref="TileK"/>-wide
/// slices of x and W in shared memory. With a LoRA adapter the rows of A are appended to W as
/// virtual output rows N..N+r, so <c>u = x·Aᵀ</c> comes out of the same pass over x; the up
/// projection is then added by <see cref="LoraKernels"/>.
/// </summary>
public static class MatMulKernels
{
    /// <summary>Output rows per thread.</summary>
    public const int RegM = 4;
    /// <summary>Output columns per thread.</summary>
    public const int RegN = 4;
    /// <summary>Depth of one shared-memory stage.</summary>
    public const int TileK = 16;

    /// <summary>
    /// Kernel: <c>y = x·Wᵀ + bias</c> and <c>u = x·Aᵀ</c>. Grid: (⌈(N+r)/BN⌉, ⌈M/BM⌉), group (gx, gy),
    /// BM = gy·RegM, BN = gx·RegN, dynamic shared memory TileK·(BM+BN) floats.
    /// </summary>
    public static void Forward<TW>(
        ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> loraA,
        ArrayView<float> y, ArrayView<float> loraU, MatMulArgs a)
        where TW : unmanaged, IWeight
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tx = Group.IdxX, ty = Group.IdxY, gx = Group.DimX, gy = Group.DimY;
        int bm = gy * RegM, bn = gx * RegN;
        int row0 = Grid.IdxY * bm, col0 = Grid.IdxX * bn;
        int nTotal = a.N + a.LoraRank;
        int tid = ty * gx + tx, threads = gx * gy;
        int xsBase = 0, wsBase = TileK * bm;

        var tile = default(RegisterTile);
        for (int k0 = 0; k0 < a.K; k0 += TileK)
        {
            for (int i = tid; i < TileK * bm; i += threads)
            {
                int r = i / TileK, kk = i - r * TileK;
                int m = row0 + r, k = k0 + kk;
                shared[xsBase + kk * bm + r] = m < a.M && k < a.K ? x[(long)m * a.K + k] : 0f;
            }
            for (int i = tid; i < TileK * bn; i += threads)
            {
                int c = i / TileK, kk = i - c * TileK;
                int n = col0 + c, k = k0 + kk;
                float v = 0f;
                if (k < a.K)
                {
                    if (n < a.N) v = w[(long)n * a.K + k].ToFloat();
                    else if (n < nTotal) v = loraA[(long)(n - a.N) * a.K + k];
                }
                shared[wsBase + kk * bn + c] = v;
            }
            Group.Barrier();
            tile.Accumulate(shared, xsBase + ty * RegM, bm, wsBase + tx * RegN, bn, TileK);
            Group.Barrier();
        }
        tile.Store(new ForwardSink<TW>(y, bias, loraU, a), row0 + ty * RegM, col0 + tx * RegN);
    }

    /// <summary>
    /// Kernel: the input gradient of <see cref="Forward{TW}"/>,
    /// <c>dx[M,K] (+)= dy[M,N]·W[N,K] + du[M,r]·A[r,K]</c>: the LoRA term is extra reduction rows, so
    /// one pass serves base and adapter. Grid (⌈K/BN⌉, ⌈M/BM⌉); same tiling as the forward.
    /// </summary>
    public static void BackwardInput<TW>(
        ArrayView<float> dy, ArrayView<float> du, ArrayView<TW> w, ArrayView<float> loraA, ArrayView<float> dx, MatMulArgs a, int accumulate)
        where TW : unmanaged, IWeight
    {
        var shared = SharedMemory.GetDynamic<float>();
        int tx = Group.IdxX, ty = Group.IdxY, gx = Group.DimX, gy = Group.DimY;
        int bm = gy * RegM, bn = gx * RegN;
        int row0 = Grid.IdxY * bm, col0 = Grid.IdxX * bn;
        int nTotal = a.N + a.LoraRank;
        int tid = ty * gx + tx, threads = gx * gy;
        int dyBase = 0, wBase = TileK * bm;

        var tile = default(RegisterTile);
        for (int n0 = 0; n0 < nTotal; n0 += TileK)
        {
            for (int i = tid; i < TileK * bm; i += threads)
            {
                int r = i / TileK, nn = i - r * TileK;
                int m = row0 + r, n = n0 + nn;
                float v = 0f;
                if (m < a.M)
                {
                    if (n < a.N) v = dy[(long)m * a.N + n];
                    else if (n < nTotal) v = du[(long)m * a.LoraRank + (n - a.N)];
                }
                shared[dyBase + nn * bm + r] = v;
            }
            for (int i = tid; i < TileK * bn; i += threads)
            {
                int nn = i / bn, c = i - nn * bn;
                int n = n0 + nn, k = col0 + c;
                float v = 0f;
                if (k < a.K)
                {
                    if (n < a.N) v = w[(long)n * a.K + k].ToFloat();
                    else if (n < nTotal) v = loraA[(long)(n - a.N) * a.K + k];
                }
                shared[wBase + nn * bn + c] = v;
            }
            Group.Barrier();
            tile.Accumulate(shared, dyBase + ty * RegM, bm, wBase + tx * RegN, bn, TileK);
            Group.Barrier();
        }
        tile.Store(new InputGradientSink(dx, a.M, a.K, accumulate), row0 + ty * RegM, col0 + tx * RegN);
    }

    /// <summary>Where a register tile's values go.</summary>
    private interface ITileSink
    {
        void Store(int m, int n, float value);
    }

    /// <summary>Forward outputs: y with bias for n &lt; N, the LoRA down projection u for N ≤ n &lt; N+r.</summary>
    private readonly struct ForwardSink<TW>(ArrayView<float> y, ArrayView<TW> bias, ArrayView<float> loraU, MatMulArgs a) : ITileSink
        where TW : unmanaged, IWeight
    {
        public void Store(int m, int n, float value)
        {
            if (m >= a.M) return;
            if (n < a.N)
                y[(long)m * a.N + n] = a.HasBias != 0 ? value + bias[n].ToFloat() : value;
            else if (n < a.N + a.LoraRank)
                loraU[(long)m * a.LoraRank + (n - a.N)] = value;
        }
    }

    /// <summary>Input gradient dx[M,K], written or accumulated.</summary>
    private readonly struct InputGradientSink(ArrayView<float> dx, int rows, int cols, int accumulate) : ITileSink
    {
        public void Store(int m, int n, float value)
        {
            if (m >= rows || n >= cols) return;
            long i = (long)m * cols + n;
            dx[i] = accumulate != 0 ? dx[i] + value : value;
        }
    }

    /// <summary>
    /// A thread's <see cref="RegM"/>×<see cref="RegN"/> accumulators, unrolled by hand (ILGPU 1.5.3 does
    /// not unroll loops) so they stay in registers.
    /// </summary>
    private struct RegisterTile
    {
        private float _c00, _c01, _c02, _c03, _c10, _c11, _c12, _c13, _c20, _c21, _c22, _c23, _c30, _c31, _c32, _c33;

        /// <summary>Adds Σ_k a[k][0..3]ᵀ·b[k][0..3] over <paramref name="depth"/> staged rows.</summary>
        public void Accumulate(ArrayView<float> s, int aOffset, int aStride, int bOffset, int bStride, int depth)
        {
            for (int kk = 0; kk < depth; kk++)
            {
                int ao = aOffset + kk * aStride, bo = bOffset + kk * bStride;
                float a0 = s[ao], a1 = s[ao + 1], a2 = s[ao + 2], a3 = s[ao + 3];
                float b0 = s[bo], b1 = s[bo + 1], b2 = s[bo + 2], b3 = s[bo + 3];
                _c00 += a0 * b0; _c01 += a0 * b1; _c02 += a0 * b2; _c03 += a0 * b3;
                _c10 += a1 * b0; _c11 += a1 * b1; _c12 += a1 * b2; _c13 += a1 * b3;
                _c20 += a2 * b0; _c21 += a2 * b1; _c22 += a2 * b2; _c23 += a2 * b3;
                _c30 += a3 * b0; _c31 += a3 * b1; _c32 += a3 * b2; _c33 += a3 * b3;
            }
        }

        /// <summary>Hands the 16 values to <paramref name="sink"/> at rows m0.., columns n0...</summary>
        public readonly void Store<TSink>(TSink sink, int m0, int n0) where TSink : struct, ITileSink
        {
            sink.Store(m0, n0, _c00); sink.Store(m0, n0 + 1, _c01); sink.Store(m0, n0 + 2, _c02); sink.Store(m0, n0 + 3, _c03);
            sink.Store(m0 + 1, n0, _c10); sink.Store(m0 + 1, n0 + 1, _c11); sink.Store(m0 + 1, n0 + 2, _c12); sink.Store(m0 + 1, n0 + 3, _c13);
            sink.Store(m0 + 2, n0, _c20); sink.Store(m0 + 2, n0 + 1, _c21); sink.Store(m0 + 2, n0 + 2, _c22); sink.Store(m0 + 2, n0 + 3, _c23);
            sink.Store(m0 + 3, n0, _c30); sink.Store(m0 + 3, n0 + 1, _c31); sink.Store(m0 + 3, n0 + 2, _c32); sink.Store(m0 + 3, n0 + 3, _c33);
        }
    }

    /// <summary>
    /// Launches <see cref="Forward{TW}"/>. Pass empty views for <paramref name="bias"/> (no bias)
    /// and for <paramref name="loraA"/>/<paramref name="loraU"/> (no adapter). With <paramref name="loraB"/>, also
    /// adds the LoRA up-projection y += scale·u·Bᵀ (fused into the same product on the SIMD backend, a
    /// <see cref="LoraKernels.AddUpProjection"/> launch on GPUs). <paramref name="frozenWeights"/> lets the
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
        double flops = 2.0 * m * (n + loraRank) * k, bytes = Traffic<TW>(m, n, k, loraRank);
        if (device.UsesSimd)
        {
            // The SIMD product includes the up projection; on GPUs it is a launch (and timing) of its own.
            // A folded adapter costs nothing per call; otherwise the up projection is part of the product.
            bool folded = frozenWeights && up && loraFoldId != 0;
            using var simdTimer = device.Time("matmul.forward", folded ? 2.0 * m * n * k : flops + (up ? 2.0 * m * n * loraRank : 0), bytes);
            SimdForward(device, x, w, bias, loraA, y, loraU, m, n, k, loraRank, frozenWeights, up ? loraB : ArrayView<float>.Empty, loraScale,
                folded ? loraFoldId : 0);
            return;
        }
        using (device.Time("matmul.forward", flops, bytes))
        {
            var kernel = device.GetKernel($"matmul.fwd.{typeof(TW).Name}", acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<TW>, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, MatMulArgs>(Forward));
            int gx = device.Shapes.MatMulGroupX, gy = device.Shapes.MatMulGroupY;
            int bm = gy * RegM, bn = gx * RegN;
            var args = new MatMulArgs { M = m, N = n, K = k, LoraRank = loraRank, HasBias = bias.Length > 0 ? 1 : 0 };
            var grid = new Index2D((n + loraRank + bn - 1) / bn, (m + bm - 1) / bm);
            var config = new KernelConfig(grid, new Index2D(gx, gy), SharedMemoryConfig.RequestDynamic<float>(TileK * (bm + bn)));
            kernel(config, x, w, bias, loraA, y, loraU, args);
        }
        if (up) LoraKernels.LaunchAddUpProjection(device, y, loraU, loraB, m, n, loraRank, loraScale);
    }

    /// <summary>
    /// Launches <see cref="BackwardInput{TW}"/>: dx[m,k] (+)= dy·W (+ du·A when <paramref name="loraRank"/> &gt; 0).
    /// <paramref name="frozenWeights"/> lets the SIMD backend keep a packed copy of W.
    /// </summary>
    public static void LaunchBackwardInput<TW>(
        ComputeDevice device, ArrayView<float> dy, ArrayView<float> du, ArrayView<TW> w, ArrayView<float> loraA,
        ArrayView<float> dx, int m, int n, int k, int loraRank, bool accumulate, bool frozenWeights = false)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("matmul.backward_input", 2.0 * m * (n + loraRank) * k, Traffic<TW>(m, n, k, loraRank));
        if (device.UsesSimd)
        {
            SimdBackwardInput(device, dy, du, w, loraA, dx, m, n, k, loraRank, accumulate, frozenWeights);
            return;
        }
        var kernel = device.GetKernel($"matmul.bwd_input.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<TW>, ArrayView<float>, ArrayView<float>, MatMulArgs, int>(BackwardInput));
        int gx = device.Shapes.MatMulGroupX, gy = device.Shapes.MatMulGroupY;
        int bm = gy * RegM, bn = gx * RegN;
        var args = new MatMulArgs { M = m, N = n, K = k, LoraRank = loraRank };
        var grid = new Index2D((k + bn - 1) / bn, (m + bm - 1) / bm);
        var config = new KernelConfig(grid, new Index2D(gx, gy), SharedMemoryConfig.RequestDynamic<float>(TileK * (bm + bn)));
        kernel(config, dy, du, w, loraA, dx, args, accumulate ? 1 : 0);
    }

    /// <summary>Least bytes a product over (m, n + rank, k) moves: fp32 activations in and out, stored weights once.</summary>
    private static double Traffic<TW>(int m, int n, int k, int rank) where TW : unmanaged, IWeight =>
        4.0 * m * (k + n + rank) + (double)Unsafe.SizeOf<TW>() * n * k;

    /// <summary>
    /// SIMD CPU forward: u = x·Aᵀ, then y = x·Wᵀ + scale·u·Bᵀ in one blocked product, then the bias; or,
    /// with a frozen adapter (<paramref name="foldId"/> nonzero), y = x·(W + scale·B·A)ᵀ from a packed folded copy.
    /// </summary>
    private static void SimdForward<TW>(ComputeDevice device, ArrayView<float> xView, ArrayView<TW> wView, ArrayView<TW> biasView,
        ArrayView<float> aView, ArrayView<float> yView, ArrayView<float> uView, int m, int n, int k, int rank, bool frozen,
        ArrayView<float> loraB, float loraScale, long foldId)
        where TW : unmanaged, IWeight
    {
        var x = Strided<float>.RowMajor(device.Host(xView), k);
        var y = device.Host(yView);
        var w = Strided<TW>.Transposed(device.Host(wView), k);
        if (foldId != 0)
        {
            var folded = device.PackedWeights(wView, transposed: true, () => PackFolded(device, wView, aView, loraB, n, k, rank, loraScale), foldId);
            SimdGemm.Multiply(x, w, y, 0, n, m, n, k, 1f, accumulate: false, packed: folded);
            AddBias(device, biasView, y, m, n);
            return;
        }
        if (rank > 0) SimdRankProducts.RowDots(x.Data, device.Host(aView), device.Host(uView), m, rank, k, 1f, accumulate: false);
        ExtraProduct? up = loraB.Length > 0
            ? new ExtraProduct(Strided<float>.RowMajor(device.Host(uView), rank), Strided<F32>.Transposed(device.Host(loraB.Cast<F32>()), rank), rank, loraScale)
            : null;
        var packed = frozen ? device.PackedWeights(wView, transposed: true, () => SimdGemm.PackAll(w, n, k)) : null;
        SimdGemm.Multiply(x, w, y, 0, n, m, n, k, 1f, accumulate: false, packed: packed, extra: up);
        AddBias(device, biasView, y, m, n);
    }

    /// <summary>y[m, n] += bias on every row (no bias when the view is empty).</summary>
    private static void AddBias<TW>(ComputeDevice device, ArrayView<TW> biasView, HostSpan<float> y, int m, int n) where TW : unmanaged, IWeight
    {
        if (biasView.Length == 0) return;
        var bias = new float[n];
        WeightRows.Widen(device.Host(biasView), 0, bias);
        Simd.ForRows(m, n, (first, count) =>
        {
            for (int row = first; row < first + count; row++)
                System.Numerics.Tensors.TensorPrimitives.Add(y.Slice((long)row * n, n), bias, y.Slice((long)row * n, n));
        });
    }

    /// <summary>W + scale·B·A in fp32 ([n, k], W widened), packed for x·(…)ᵀ: a frozen adapter folded into its base weight.</summary>
    private static PackedPanels PackFolded<TW>(ComputeDevice device, ArrayView<TW> wView, ArrayView<float> aView, ArrayView<float> bView,
        int n, int k, int rank, float scale)
        where TW : unmanaged, IWeight
    {
        var merged = GC.AllocateUninitializedArray<float>(n * k, pinned: true);
        var mergedFloats = HostSpan<float>.Pinned(merged);
        var weights = device.Host(wView);
        Simd.ForRows(n, k, (first, count) =>
        {
            for (int row = first; row < first + count; row++) WeightRows.Widen(weights, (long)row * k, mergedFloats.Slice((long)row * k, k));
        });
        LoraKernels.MergeIntoWeight(merged, device.Host(aView).Slice(0, rank * k).ToArray(), device.Host(bView).Slice(0, n * rank).ToArray(), n, k, rank, scale);
        var packed = SimdGemm.PackAll(Strided<F32>.Transposed(mergedFloats.As<F32>(), k), n, k);
        GC.KeepAlive(merged);
        return packed;
    }

    /// <summary>SIMD CPU input gradient: dx (+)= dy·W + du·A in one blocked product.</summary>
    private static void SimdBackwardInput<TW>(ComputeDevice device, ArrayView<float> dyView, ArrayView<float> duView, ArrayView<TW> wView,
        ArrayView<float> aView, ArrayView<float> dxView, int m, int n, int k, int rank, bool accumulate, bool frozen)
        where TW : unmanaged, IWeight
    {
        var dx = device.Host(dxView);
        var w = Strided<TW>.RowMajor(device.Host(wView), k);
        var packed = frozen ? device.PackedWeights(wView, transposed: false, () => SimdGemm.PackAll(w, k, n)) : null;
        // du·A (depth: the rank) is summed into the same register tiles as dy·W.
        ExtraProduct? down = rank > 0
            ? new ExtraProduct(Strided<float>.RowMajor(device.Host(duView), rank), Strided<F32>.RowMajor(device.Host(aView.Cast<F32>()), k), rank, 1f)
            : null;
        SimdGemm.Multiply(Strided<float>.RowMajor(device.Host(dyView), n), w, dx, 0, k, m, k, n, 1f, accumulate, packed: packed, extra: down);
    }
}
