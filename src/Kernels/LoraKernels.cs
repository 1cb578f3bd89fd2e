using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>LoRA up projection: <c>y += scale·u·Bᵀ</c> with u = x·Aᵀ from <see cref="MatMulKernels"/>.</summary>
public static class LoraKernels
{
    /// <summary>Kernel: one thread per element of y[M,N]; B is [N, r], u is [M, r].</summary>
    public static void AddUpProjection(Index1D index, ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int n, int rank, float scale)
    {
        long m = index / n, col = index - m * n;
        float sum = 0f;
        for (int j = 0; j < rank; j++) sum += u[m * rank + j] * b[col * rank + j];
        y[index] += scale * sum;
    }

    /// <summary>
    /// Merges an adapter into its base weight on the host: <c>W[out, in] += scale·B·A</c> (A [rank, in],
    /// B [out, rank]), row by row, term by term. The ONNX export's merged weights and the SIMD backend's
    /// folded frozen adapters both come from here, so they are the same numbers.
    /// </summary>
    public static void MergeIntoWeight(float[] weight, float[] a, float[] b, int outDim, int inDim, int rank, float scale) =>
        CoreTeam.For(outDim, o =>
        {
            var row = weight.AsSpan((int)((long)o * inDim), inDim);
            for (int j = 0; j < rank; j++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(a.AsSpan(j * inDim, inDim), scale * b[o * rank + j], row, row);
        });

    /// <summary>Launches <see cref="AddUpProjection"/> over the m×n outputs.</summary>
    public static void LaunchAddUpProjection(ComputeDevice device, ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale)
    {
        using var timer = device.Time("lora.up", 2.0 * m * n * rank, 8.0 * m * n);
        if (device.UsesSimd)
        {
            SimdGemm.Multiply(Strided<float>.RowMajor(device.Host(u), rank), Strided<F32>.Transposed(device.Host(b.Cast<F32>()), rank),
                device.Host(y), 0, n, m, n, rank, scale, accumulate: true);
            return;
        }
        var kernel = device.GetKernel("lora.up.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(AddUpProjection));
        kernel(m * n, y, u, b, n, rank, scale);
    }

    /// <summary>
    /// Kernel, backward of the up projection: threads 0..M·r−1 write du[m,j] = scale·Σ_n dy[m,n]·B[n,j];
    /// threads M·r.. add dB[n,j] += scale·Σ_m dy[m,n]·u[m,j].
    /// </summary>
    public static void BackwardUp(Index1D index, ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b,
        ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale)
    {
        long duCount = (long)m * rank;
        if (index < duCount)
        {
            long row = index / rank;
            int j = (int)(index - row * rank);
            float sum = 0f;
            for (int c = 0; c < n; c++) sum += dy[row * n + c] * b[(long)c * rank + j];
            du[index] = scale * sum;
        }
        else
        {
            long i = index - duCount;
            long col = i / rank;
            int j = (int)(i - col * rank);
            float sum = 0f;
            for (int r = 0; r < m; r++) sum += dy[(long)r * n + col] * u[(long)r * rank + j];
            dB[i] += scale * sum;
        }
    }

    /// <summary>Kernel, backward of the down projection: dA[j,k] += Σ_m du[m,j]·x[m,k].</summary>
    public static void BackwardDown(Index1D index, ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank)
    {
        long j = index / k, col = index - j * k;
        float sum = 0f;
        for (int r = 0; r < m; r++) sum += du[(long)r * rank + j] * x[(long)r * k + col];
        dA[index] += sum;
    }

    /// <summary>Launches <see cref="BackwardUp"/>: du (written) and dB (accumulated).</summary>
    public static void LaunchBackwardUp(ComputeDevice device, ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b,
        ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale)
    {
        using var timer = device.Time("lora.backward_up", 4.0 * m * n * rank, 4.0 * m * n);
        if (device.UsesSimd)
        {
            var (dyh, bh) = (device.Host(dy), device.Host(b));
            // Bᵀ [rank, n] in the calling thread's scratch slot 1, so du's rows are dot products with its rows.
            var bT = Simd.Scratch(1, rank * n);
            for (int row = 0; row < n; row++)
                for (int j = 0; j < rank; j++) bT[j * n + row] = bh[(long)row * rank + j];
            SimdRankProducts.RowDots(dyh, HostSpan<float>.Pinned(bT), device.Host(du), m, rank, n, scale, accumulate: false);
            SimdRankProducts.SumOuter(device.Host(u), dyh, device.Host(dB), m, rank, n, scale, accumulate: true, transposedOutput: true);
            return;
        }
        var kernel = device.GetKernel("lora.up.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float>(BackwardUp));
        kernel((m + n) * rank, dy, u, b, du, dB, m, n, rank, scale);
    }

    /// <summary>Launches <see cref="BackwardDown"/>: dA (accumulated).</summary>
    public static void LaunchBackwardDown(ComputeDevice device, ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank)
    {
        using var timer = device.Time("lora.backward_down", 2.0 * m * k * rank, 4.0 * m * k);
        if (device.UsesSimd)
        {
            SimdRankProducts.SumOuter(device.Host(du), device.Host(x), device.Host(dA), m, rank, k, 1f, accumulate: true, transposedOutput: false);
            return;
        }
        var kernel = device.GetKernel("lora.down.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BackwardDown));
        kernel(rank * k, du, x, dA, m, k, rank);
    }
}
