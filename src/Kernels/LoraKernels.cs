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

    /// <summary>Launches <see cref="AddUpProjection"/> over the m×n outputs.</summary>
    public static void LaunchAddUpProjection(ComputeDevice device, ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale)
    {
        if (device.UsesSimd)
        {
            var (yh, uh) = (device.Host(y), device.Host(u));
            var bT = TransposedScaled(device.Host(b), n, rank, scale);
            Parallel.For(0, m, row =>
            {
                var target = yh.Slice((long)row * n, n);
                for (int j = 0; j < rank; j++)
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(bT.AsSpan(j * n, n), uh[(long)row * rank + j], target, target);
            });
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
        if (device.UsesSimd)
        {
            var (dyh, uh, duh, dBh) = (device.Host(dy), device.Host(u), device.Host(du), device.Host(dB));
            var bT = TransposedScaled(device.Host(b), n, rank, scale);
            Parallel.For(0, m, row =>
            {
                var dyRow = dyh.Slice((long)row * n, n);
                for (int j = 0; j < rank; j++) duh[(long)row * rank + j] = System.Numerics.Tensors.TensorPrimitives.Dot(dyRow, bT.AsSpan(j * n, n));
            });
            Parallel.For(0, (n + 63) / 64, block =>
            {
                int c0 = block * 64, cols = Math.Min(64, n - c0);
                var acc = new float[cols * rank];
                for (int row = 0; row < m; row++)
                    for (int c = 0; c < cols; c++)
                    {
                        float g = dyh[(long)row * n + c0 + c];
                        for (int j = 0; j < rank; j++) acc[c * rank + j] += g * uh[(long)row * rank + j];
                    }
                for (int i = 0; i < acc.Length; i++) dBh[(long)c0 * rank + i] += scale * acc[i];
            });
            return;
        }
        var kernel = device.GetKernel("lora.up.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float>(BackwardUp));
        kernel((m + n) * rank, dy, u, b, du, dB, m, n, rank, scale);
    }

    /// <summary>Launches <see cref="BackwardDown"/>: dA (accumulated).</summary>
    public static void LaunchBackwardDown(ComputeDevice device, ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank)
    {
        if (device.UsesSimd)
        {
            var (duh, xh, dAh) = (device.Host(du), device.Host(x), device.Host(dA));
            Parallel.For(0, rank, j =>
            {
                var target = dAh.Slice((long)j * k, k);
                for (int row = 0; row < m; row++)
                {
                    float g = duh[(long)row * rank + j];
                    if (g != 0f) System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(xh.Slice((long)row * k, k), g, target, target);
                }
            });
            return;
        }
        var kernel = device.GetKernel("lora.down.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(BackwardDown));
        kernel(rank * k, du, x, dA, m, k, rank);
    }

    /// <summary>scale·Bᵀ as [r, n] on the host, so the SIMD loops run contiguously over n.</summary>
    private static float[] TransposedScaled(HostSpan<float> b, int n, int rank, float scale)
    {
        var bT = new float[rank * n];
        for (int col = 0; col < n; col++)
            for (int j = 0; j < rank; j++) bT[j * n + col] = scale * b[(long)col * rank + j];
        return bT;
    }
}
