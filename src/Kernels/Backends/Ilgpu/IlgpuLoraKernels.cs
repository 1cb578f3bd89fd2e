using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>LoRA up projection: <c>y += scale·u·Bᵀ</c> with u = x·Aᵀ from <see cref="IlgpuMatMulKernels"/> (launchers in Ops/).</summary>
internal static class IlgpuLoraKernels
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
}

internal sealed partial class IlgpuBackend
{
    public void LoraAddUpProjection(ArrayView<float> y, ArrayView<float> u, ArrayView<float> b, int m, int n, int rank, float scale)
    {
        var kernel = _device.GetKernel("lora.up.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(IlgpuLoraKernels.AddUpProjection));
        kernel(m * n, y, u, b, n, rank, scale);
    }

    public void LoraBackwardUp(ArrayView<float> dy, ArrayView<float> u, ArrayView<float> b, ArrayView<float> du, ArrayView<float> dB, int m, int n, int rank, float scale)
    {
        var kernel = _device.GetKernel("lora.up.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float>(IlgpuLoraKernels.BackwardUp));
        kernel((m + n) * rank, dy, u, b, du, dB, m, n, rank, scale);
    }

    public void LoraBackwardDown(ArrayView<float> du, ArrayView<float> x, ArrayView<float> dA, int m, int k, int rank)
    {
        var kernel = _device.GetKernel("lora.down.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(IlgpuLoraKernels.BackwardDown));
        kernel(rank * k, du, x, dA, m, k, rank);
    }
}
