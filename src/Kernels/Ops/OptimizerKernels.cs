using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>AdamW update and the squared-norm reduction used for global-norm clipping.</summary>
public static class OptimizerKernels
{
    /// <summary>Runs one AdamW step (<see cref="AdamWArgs.Step"/>) over every element of <paramref name="p"/>.</summary>
    public static void LaunchAdamW(ComputeDevice device, ArrayView<float> p, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWArgs args)
    {
        using var timer = device.Time("optimizer.adamw", 12.0 * p.Length, 20.0 * p.Length);
        device.Backend.AdamW(p, grad, m, v, args);
    }

    /// <summary>Runs the sum of squares, adding into <paramref name="result"/>[0].</summary>
    public static void LaunchSumOfSquares(ComputeDevice device, ArrayView<float> x, ArrayView<float> result)
    {
        using var timer = device.Time("optimizer.sum_of_squares", 2.0 * x.Length, 4.0 * x.Length);
        device.Backend.SumOfSquares(x, result);
    }
}
