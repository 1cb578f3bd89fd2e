using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>RMSNorm with fp32 statistics: <c>y = x / sqrt(mean(x²) + eps) · w</c>.</summary>
internal static class IlgpuRmsNormKernels
{
    /// <summary>Largest group the reduction buffer holds.</summary>
    public const int MaxGroup = 1024;

    /// <summary>Kernel: one group per row; the group size must be a power of two.</summary>
    public static void Forward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        var partial = SharedMemory.Allocate<float>(MaxGroup);
        int tid = Group.IdxX, threads = Group.DimX;
        long row = (long)Grid.IdxX * hidden;
        float sum = 0f;
        for (int i = tid; i < hidden; i += threads)
        {
            float v = x[row + i];
            sum += v * v;
        }
        partial[tid] = sum;
        Group.Barrier();
        for (int stride = threads / 2; stride > 0; stride /= 2)
        {
            if (tid < stride) partial[tid] += partial[tid + stride];
            Group.Barrier();
        }
        float inv = 1f / MathF.Sqrt(partial[0] / hidden + eps);
        for (int i = tid; i < hidden; i += threads)
            y[row + i] = x[row + i] * inv * weight[i].ToFloat();
    }

    /// <summary>
    /// Kernel: adds the input gradient of RMSNorm (frozen weight) to <paramref name="dx"/>:
    /// dx += r·g − x·r³·(g·x)/H with g = w⊙dy and r = 1/√(mean(x²)+eps). One group per row.
    /// </summary>
    public static void Backward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> dy, ArrayView<float> dx, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        var partial = SharedMemory.Allocate<float>(MaxGroup);
        var partialDot = SharedMemory.Allocate<float>(MaxGroup);
        int tid = Group.IdxX, threads = Group.DimX;
        long row = (long)Grid.IdxX * hidden;
        float sum = 0f, dot = 0f;
        for (int i = tid; i < hidden; i += threads)
        {
            float v = x[row + i];
            sum += v * v;
            dot += weight[i].ToFloat() * dy[row + i] * v;
        }
        partial[tid] = sum;
        partialDot[tid] = dot;
        Group.Barrier();
        for (int stride = threads / 2; stride > 0; stride /= 2)
        {
            if (tid < stride)
            {
                partial[tid] += partial[tid + stride];
                partialDot[tid] += partialDot[tid + stride];
            }
            Group.Barrier();
        }
        float r = 1f / MathF.Sqrt(partial[0] / hidden + eps);
        float coefficient = r * r * r * partialDot[0] / hidden;
        for (int i = tid; i < hidden; i += threads)
            dx[row + i] += r * weight[i].ToFloat() * dy[row + i] - x[row + i] * coefficient;
    }
}

internal sealed partial class IlgpuBackend
{
    public void RmsNormForward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int rows, int hidden, float eps) where TW : unmanaged, IWeight
    {
        var kernel = _device.GetKernel($"rmsnorm.fwd.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<float>, int, float>(IlgpuRmsNormKernels.Forward));
        kernel(new KernelConfig(rows, _device.Shapes.ReduceGroup), x, weight, y, hidden, eps);
    }

    public void RmsNormBackward<TW>(ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int hidden, float eps) where TW : unmanaged, IWeight
    {
        var kernel = _device.GetKernel($"rmsnorm.bwd.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<float>, ArrayView<float>, int, float>(IlgpuRmsNormKernels.Backward));
        kernel(new KernelConfig(rows, _device.Shapes.ReduceGroup), x, weight, dy, dx, hidden, eps);
    }
}
