using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>RMSNorm with fp32 statistics: <c>y = x / sqrt(mean(x²) + eps) · w</c>.</summary>
public static class RmsNormKernels
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

    /// <summary>Launches <see cref="Forward{TW}"/> over <paramref name="rows"/> rows.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int rows, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        var kernel = device.GetKernel($"rmsnorm.fwd.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<float>, int, float>(Forward));
        kernel(new KernelConfig(rows, device.Shapes.ReduceGroup), x, weight, y, hidden, eps);
    }
}
