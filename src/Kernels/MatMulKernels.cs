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

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;

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
            for (int kk = 0; kk < TileK; kk++)
            {
                int xo = xsBase + kk * bm + ty * RegM, wo = wsBase + kk * bn + tx * RegN;
                float a0 = shared[xo], a1 = shared[xo + 1], a2 = shared[xo + 2], a3 = shared[xo + 3];
                float b0 = shared[wo], b1 = shared[wo + 1], b2 = shared[wo + 2], b3 = shared[wo + 3];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int m0 = row0 + ty * RegM, n0 = col0 + tx * RegN;
        Store(y, bias, loraU, a, m0, n0, c00); Store(y, bias, loraU, a, m0, n0 + 1, c01);
        Store(y, bias, loraU, a, m0, n0 + 2, c02); Store(y, bias, loraU, a, m0, n0 + 3, c03);
        Store(y, bias, loraU, a, m0 + 1, n0, c10); Store(y, bias, loraU, a, m0 + 1, n0 + 1, c11);
        Store(y, bias, loraU, a, m0 + 1, n0 + 2, c12); Store(y, bias, loraU, a, m0 + 1, n0 + 3, c13);
        Store(y, bias, loraU, a, m0 + 2, n0, c20); Store(y, bias, loraU, a, m0 + 2, n0 + 1, c21);
        Store(y, bias, loraU, a, m0 + 2, n0 + 2, c22); Store(y, bias, loraU, a, m0 + 2, n0 + 3, c23);
        Store(y, bias, loraU, a, m0 + 3, n0, c30); Store(y, bias, loraU, a, m0 + 3, n0 + 1, c31);
        Store(y, bias, loraU, a, m0 + 3, n0 + 2, c32); Store(y, bias, loraU, a, m0 + 3, n0 + 3, c33);
    }

    private static void Store<TW>(
        ArrayView<float> y, ArrayView<TW> bias, ArrayView<float> loraU, MatMulArgs a, int m, int n, float value)
        where TW : unmanaged, IWeight
    {
        if (m >= a.M) return;
        if (n < a.N)
            y[(long)m * a.N + n] = a.HasBias != 0 ? value + bias[n].ToFloat() : value;
        else if (n < a.N + a.LoraRank)
            loraU[(long)m * a.LoraRank + (n - a.N)] = value;
    }

    /// <summary>
    /// Launches <see cref="Forward{TW}"/>. Pass empty views for <paramref name="bias"/> (no bias)
    /// and for <paramref name="loraA"/>/<paramref name="loraU"/> (no adapter).
    /// </summary>
    public static void LaunchForward<TW>(
        ComputeDevice device, ArrayView<float> x, ArrayView<TW> w, ArrayView<TW> bias,
        ArrayView<float> loraA, ArrayView<float> y, ArrayView<float> loraU, int m, int n, int k, int loraRank)
        where TW : unmanaged, IWeight
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
}
