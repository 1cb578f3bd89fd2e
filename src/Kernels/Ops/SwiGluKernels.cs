using ILGPU;

namespace LeadEngine.Kernels;

public static partial class SwiGluKernels
{
    /// <summary>Launches <see cref="Backward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
    {
        using var timer = device.Time("swiglu.backward", 10.0 * count, 20.0 * count);
        device.Backend.SwiGluBackward(gate, up, dy, dGate, dUp, count);
    }

    /// <summary>Launches <see cref="Forward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        using var timer = device.Time("swiglu.forward", 5.0 * count, 12.0 * count);
        device.Backend.SwiGluForward(gate, up, y, count);
    }
}
