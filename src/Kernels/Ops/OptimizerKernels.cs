using ILGPU;

namespace LeadEngine.Kernels;

public static partial class OptimizerKernels
{
    /// <summary>Launches <see cref="AdamW"/> over every element of <paramref name="p"/>.</summary>
    public static void LaunchAdamW(ComputeDevice device, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs args)
    {
        using var timer = device.Time("optimizer.adamw", 12.0 * p.Length, 20.0 * p.Length);
        device.Backend.AdamW(p, grad, m, v, args);
    }

    /// <summary>Launches <see cref="SumOfSquares"/>, adding into <paramref name="result"/>[0].</summary>
    public static void LaunchSumOfSquares(ComputeDevice device, ArrayView<float> x, ArrayView<float> result)
    {
        using var timer = device.Time("optimizer.sum_of_squares", 2.0 * x.Length, 4.0 * x.Length);
        device.Backend.SumOfSquares(x, result);
    }
}
