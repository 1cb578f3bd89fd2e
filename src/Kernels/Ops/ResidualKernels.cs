using ILGPU;

namespace LeadEngine.Kernels;

public static partial class ResidualKernels
{
    /// <summary>Launches <see cref="Forward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> x, ArrayView<float> y, long count)
    {
        using var timer = device.Time("residual.forward", count, 12.0 * count);
        device.Backend.Residual(x, y, count);
    }
}
