using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>RMSNorm with fp32 statistics: <c>y = x / sqrt(mean(x²) + eps) · w</c>, forward and input gradient.</summary>
public static class RmsNormKernels
{
    /// <summary>Runs the backward pass over <paramref name="rows"/> rows (accumulates into dx).</summary>
    public static void LaunchBackward<TW>(ComputeDevice device, ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("rmsnorm.backward", 8.0 * rows * hidden, 16.0 * rows * hidden);
        device.Backend.RmsNormBackward(x, weight, dy, dx, rows, hidden, eps);
    }

    /// <summary>Runs the forward pass over <paramref name="rows"/> rows.</summary>
    public static void LaunchForward<TW>(ComputeDevice device, ArrayView<float> x, ArrayView<TW> weight, ArrayView<float> y, int rows, int hidden, float eps)
        where TW : unmanaged, IWeight
    {
        using var timer = device.Time("rmsnorm.forward", 4.0 * rows * hidden, 8.0 * rows * hidden);
        device.Backend.RmsNormForward(x, weight, y, rows, hidden, eps);
    }
}
