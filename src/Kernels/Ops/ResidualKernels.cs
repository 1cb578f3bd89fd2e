using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>Residual stream update: <c>x += y</c>.</summary>
public static class ResidualKernels
{
    /// <summary>Runs the forward pass over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> x, ArrayView<float> y, long count)
    {
        using var timer = device.Time("residual.forward", count, 12.0 * count);
        device.Backend.Residual(x, y, count);
    }
}
