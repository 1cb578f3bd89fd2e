using System.Numerics.Tensors;
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

    /// <summary>Launches <see cref="Backward{TW}"/> over <paramref name="rows"/> rows (accumulates into dx).</summary>
    public static void LaunchBackward<TW>(ComputeDevice device, ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("rmsnorm.backward", 8.0 * rows * hidden, 16.0 * rows * hidden);
        if (device.UsesSimd)
        {
            var (xh, wh, dyh, dxh) = (device.Host(x), device.Host(weight), device.Host(dy), device.Host(dx));
            Simd.ForRows(rows, hidden, (first, count) =>
            {
                Span<float> w = stackalloc float[hidden], wdy = stackalloc float[hidden];
                WeightRows.Widen(wh, 0, w);
                for (int row = first; row < first + count; row++)
                {
                    long o = (long)row * hidden;
                    Span<float> xr = xh.Slice(o, hidden), dyr = dyh.Slice(o, hidden), dxr = dxh.Slice(o, hidden);
                    float r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / hidden + eps);
                    TensorPrimitives.Multiply(w, dyr, wdy);
                    float coefficient = r * r * r * TensorPrimitives.Dot(wdy, xr) / hidden;
                    TensorPrimitives.MultiplyAdd(wdy, r, dxr, dxr);          // dx += r·w·dy
                    TensorPrimitives.MultiplyAdd(xr, -coefficient, dxr, dxr); //    − x·r³·(w·dy·x)/n
                }
            });
            return;
        }
        var kernel = device.GetKernel($"rmsnorm.bwd.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<float>, ArrayView<float>, int, float>(Backward));
        kernel(new KernelConfig(rows, device.Shapes.ReduceGroup), x, weight, dy, dx, hidden, eps);
    }

    /// <summary>Launches <see cref="Forward{TW}"/> over <paramref name="rows"/> rows.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int rows, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("rmsnorm.forward", 4.0 * rows * hidden, 8.0 * rows * hidden);
        if (device.UsesSimd)
        {
            var (xh, wh, yh) = (device.Host(x), device.Host(weight), device.Host(y));
            Simd.ForRows(rows, hidden, (first, count) =>
            {
                Span<float> w = stackalloc float[hidden];
                WeightRows.Widen(wh, 0, w);
                for (int row = first; row < first + count; row++)
                {
                    Span<float> xr = xh.Slice((long)row * hidden, hidden), yr = yh.Slice((long)row * hidden, hidden);
                    float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / hidden + eps);
                    TensorPrimitives.Multiply(xr, inv, yr);
                    TensorPrimitives.Multiply(yr, w, yr);
                }
            });
            return;
        }
        var kernel = device.GetKernel($"rmsnorm.fwd.{typeof(TW).Name}", acc =>
            acc.LoadStreamKernel<ArrayView<float>, ArrayView<TW>, ArrayView<float>, int, float>(Forward));
        kernel(new KernelConfig(rows, device.Shapes.ReduceGroup), x, weight, y, hidden, eps);
    }
}
