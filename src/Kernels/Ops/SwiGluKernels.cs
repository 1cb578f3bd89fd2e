using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>SiLU-gated linear unit of the Qwen MLP: <c>y = silu(gate) · up</c>, forward and backward.</summary>
public static class SwiGluKernels
{
    /// <summary>Runs the backward pass over <paramref name="count"/> elements.</summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
    {
        using var timer = device.Time("swiglu.backward", 10.0 * count, 20.0 * count);
        device.Backend.SwiGluBackward(gate, up, dy, dGate, dUp, count);
    }

    /// <summary>Runs the forward pass over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        using var timer = device.Time("swiglu.forward", 5.0 * count, 12.0 * count);
        device.Backend.SwiGluForward(gate, up, y, count);
    }
}
