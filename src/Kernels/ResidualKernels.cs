using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>Residual stream update: <c>x += y</c>.</summary>
public static class ResidualKernels
{
    /// <summary>Kernel: elementwise.</summary>
    public static void Forward(Index1D index, ArrayView<float> x, ArrayView<float> y) => x[index] += y[index];

    /// <summary>Launches <see cref="Forward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> x, ArrayView<float> y, long count)
    {
        using var timer = device.Time("residual.forward", count, 12.0 * count);
        if (device.UsesSimd)
        {
            var (xh, yh) = (device.Host(x), device.Host(y));
            Simd.ForChunks(count, (start, length) =>
                System.Numerics.Tensors.TensorPrimitives.Add(xh.Slice(start, (int)length), yh.Slice(start, (int)length), xh.Slice(start, (int)length)));
            return;
        }
        var kernel = device.GetKernel("residual.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(Forward));
        kernel((int)count, x, y);
    }
}
