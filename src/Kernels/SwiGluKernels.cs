using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>SiLU-gated linear unit of the Qwen MLP: <c>y = silu(gate) · up</c>.</summary>
public static class SwiGluKernels
{
    /// <summary>Kernel: elementwise.</summary>
    public static void Forward(Index1D index, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y)
    {
        float g = gate[index];
        y[index] = g / (1f + MathF.Exp(-g)) * up[index];
    }

    /// <summary>Kernel: dgate = dy·up·silu'(gate), dup = dy·silu(gate).</summary>
    public static void Backward(Index1D index, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp)
    {
        float g = gate[index], sig = 1f / (1f + MathF.Exp(-g)), d = dy[index];
        dUp[index] = d * g * sig;
        dGate[index] = d * up[index] * sig * (1f + g * (1f - sig));
    }

    /// <summary>Launches <see cref="Backward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchBackward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
    {
        if (device.UsesSimd)
        {
            Simd.ForEach(count, i => Backward(new Index1D((int)i), gate, up, dy, dGate, dUp));
            return;
        }
        var kernel = device.GetKernel("swiglu.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Backward));
        kernel((int)count, gate, up, dy, dGate, dUp);
    }

    /// <summary>Launches <see cref="Forward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        if (device.UsesSimd)
        {
            Simd.ForEach(count, i => Forward(new Index1D((int)i), gate, up, y));
            return;
        }
        var kernel = device.GetKernel("swiglu.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Forward));
        kernel((int)count, gate, up, y);
    }
}
