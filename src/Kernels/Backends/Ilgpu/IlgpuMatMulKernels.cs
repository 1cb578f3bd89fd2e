using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Shape of one projection <c>y[M,N] = x[M,K]·W[N,K]ᵀ (+ bias)</c> with an optional LoRA down path.</summary>
internal struct MatMulArgs
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
/// projection is then added by <see cref="IlgpuLoraKernels"/>.
/// </summary>
internal static class IlgpuMatMulKernels
{
    /// <summary>Output rows per thread.</summary>
    public const int RegM = 4;
    /// <summary>Output columns per thread.</summary>
    public const int RegN = 4;
    /// <summary>Depth of one shared-memory stage.</summary>
    public const int TileK = 16;

    /// <summary>Dynamic shared memory of a group, in floats: a TileK slice of its A rows and of its B columns.</summary>
    internal static int SharedFloats(LaunchShapes shapes) => TileK * (shapes.MatMulGroupY * RegM + shapes.MatMulGroupX * RegN);

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
                shared[wsBase + kk * bn + c] = WeightOrAdapter(w, loraA, col0 + c, k0 + kk, a);
            }
            Group.Barrier();
            tile.Accumulate(shared, xsBase + ty * RegM, bm, wsBase + tx * RegN, bn, TileK);
            Group.Barrier();
        }
        tile.Store(new ForwardSink<TW>(y, bias, loraU, a), row0 + ty * RegM, col0 + tx * RegN);
    }

    /// <summary>
    /// Element (n, k) of the rows both passes reduce with: W[n, k] for n &lt; N, the adapter's A[n − N, k] for the LoRA
    /// rows N ≤ n &lt; N + r, and 0 outside (a tile's edge).
    /// </summary>
    internal static float WeightOrAdapter<TW>(ArrayView<TW> w, ArrayView<float> loraA, int n, int k, MatMulArgs a) where TW : unmanaged, IWeight =>
        k >= a.K ? 0f : n < a.N ? w[(long)n * a.K + k].ToFloat() : n < a.N + a.LoraRank ? loraA[(long)(n - a.N) * a.K + k] : 0f;

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
                shared[wBase + nn * bn + c] = WeightOrAdapter(w, loraA, n0 + nn, col0 + c, a);
            }
            Group.Barrier();
            tile.Accumulate(shared, dyBase + ty * RegM, bm, wBase + tx * RegN, bn, TileK);
            Group.Barrier();
        }
        tile.Store(new InputGradientSink(dx, a.M, a.K, accumulate), row0 + ty * RegM, col0 + tx * RegN);
    }

    /// <summary>Where a register tile's values go.</summary>
    internal interface ITileSink
    {
        void Store(int m, int n, float value);
    }

    /// <summary>Forward outputs: y with bias for n &lt; N, the LoRA down projection u for N ≤ n &lt; N+r.</summary>
    internal readonly struct ForwardSink<TW>(ArrayView<float> y, ArrayView<TW> bias, ArrayView<float> loraU, MatMulArgs a) : ITileSink
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
}

internal sealed partial class IlgpuBackend
{
    public void MatMulForward<TW>(ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias, ArrayView<float> loraA, ArrayView<float> y, ArrayView<float> loraU,
        int m, int n, int k, int loraRank, bool frozenWeights, ArrayView<float> loraB, float loraScale, long loraFoldId) where TW : unmanaged, IWeight
    {
        var args = new MatMulArgs { M = m, N = n, K = k, LoraRank = loraRank, HasBias = bias.Length > 0 ? 1 : 0 };
        if (_device.TensorCores)
        {
            TensorCoreMatMulForward(x, w, bias, loraA, y, loraU, args);
        }
        else
        {
            var kernel = _device.GetKernel($"matmul.fwd.{typeof(TW).Name}", acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<TW>, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, MatMulArgs>(IlgpuMatMulKernels.Forward));
            int gx = _device.Shapes.MatMulGroupX, gy = _device.Shapes.MatMulGroupY;
            int bm = gy * IlgpuMatMulKernels.RegM, bn = gx * IlgpuMatMulKernels.RegN;
            var grid = new Index2D((n + loraRank + bn - 1) / bn, (m + bm - 1) / bm);
            var config = new KernelConfig(grid, new Index2D(gx, gy), SharedMemoryConfig.RequestDynamic<float>(IlgpuMatMulKernels.SharedFloats(_device.Shapes)));
            kernel(config, x, w, bias, loraA, y, loraU, args);
        }
        // The up projection is a second kernel here (the SIMD backend sums it into the same product).
        if (loraRank > 0 && loraB.Length > 0) LoraAddUpProjection(y, loraU, loraB, m, n, loraRank, loraScale);
    }

    public void MatMulBackwardInput<TW>(ArrayView<float> dy, ArrayView<float> du, ArrayView<TW> w, ArrayView<float> loraA, ArrayView<float> dx,
        int m, int n, int k, int loraRank, bool accumulate, bool frozenWeights) where TW : unmanaged, IWeight
    {
        var kernel = _device.GetKernel($"matmul.bwd_input.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<TW>, ArrayView<float>, ArrayView<float>, MatMulArgs, int>(IlgpuMatMulKernels.BackwardInput));
        int gx = _device.Shapes.MatMulGroupX, gy = _device.Shapes.MatMulGroupY;
        int bm = gy * IlgpuMatMulKernels.RegM, bn = gx * IlgpuMatMulKernels.RegN;
        var args = new MatMulArgs { M = m, N = n, K = k, LoraRank = loraRank };
        var grid = new Index2D((k + bn - 1) / bn, (m + bm - 1) / bm);
        var config = new KernelConfig(grid, new Index2D(gx, gy), SharedMemoryConfig.RequestDynamic<float>(IlgpuMatMulKernels.SharedFloats(_device.Shapes)));
        kernel(config, dy, du, w, loraA, dx, args, accumulate ? 1 : 0);
    }
}
