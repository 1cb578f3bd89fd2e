using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

/// <summary>SiLU-gated linear unit of the Qwen MLP: <c>y = silu(gate) · up</c> (launchers in Ops/).</summary>
internal static class IlgpuSwiGluKernels
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
}

internal sealed partial class IlgpuBackend
{
    public void SwiGluForward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        var kernel = _device.GetKernel("swiglu.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(IlgpuSwiGluKernels.Forward));
        kernel((int)count, gate, up, y);
    }

    public void SwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
    {
        var kernel = _device.GetKernel("swiglu.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(IlgpuSwiGluKernels.Backward));
        kernel((int)count, gate, up, dy, dGate, dUp);
    }
}
