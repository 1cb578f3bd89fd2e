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
        var kernel = device.GetKernel("lora.up.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(AddUpProjection));
        kernel(m * n, y, u, b, n, rank, scale);
    }
}
