using ILGPU;
using System.Numerics.Tensors;
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
        using var timer = device.Time("swiglu.backward", 10.0 * count, 20.0 * count);
        if (device.UsesSimd)
        {
            var (gh, uh, dyh, dgh, duh) = (device.Host(gate), device.Host(up), device.Host(dy), device.Host(dGate), device.Host(dUp));
            Simd.ForChunks(count, (start, length) =>
            {
                int n = (int)length;
                Span<float> g = gh.Slice(start, n), u = uh.Slice(start, n), d = dyh.Slice(start, n);
                var sig = new float[n];
                var silu = new float[n];
                var scratch = new float[n];
                TensorPrimitives.Sigmoid(g, sig);
                TensorPrimitives.Multiply(g, sig, silu);
                TensorPrimitives.Multiply(d, silu, duh.Slice(start, n));       // dup = dy·silu(g)
                TensorPrimitives.Multiply(silu, sig, scratch);                  // g·σ²
                TensorPrimitives.Add(sig, silu, sig);                           // σ + g·σ
                TensorPrimitives.Subtract(sig, scratch, sig);                   // silu'(g) = σ + g·σ − g·σ²
                TensorPrimitives.Multiply(d, u, scratch);
                TensorPrimitives.Multiply(scratch, sig, dgh.Slice(start, n));   // dgate = dy·up·silu'(g)
            });
            return;
        }
        var kernel = device.GetKernel("swiglu.bwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Backward));
        kernel((int)count, gate, up, dy, dGate, dUp);
    }

    /// <summary>Launches <see cref="Forward"/> over <paramref name="count"/> elements.</summary>
    public static void LaunchForward(ComputeDevice device, ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        using var timer = device.Time("swiglu.forward", 5.0 * count, 12.0 * count);
        if (device.UsesSimd)
        {
            var (gh, uh, yh) = (device.Host(gate), device.Host(up), device.Host(y));
            Simd.ForChunks(count, (start, length) =>
            {
                int n = (int)length;
                var sig = new float[n];
                TensorPrimitives.Sigmoid(gh.Slice(start, n), sig);
                TensorPrimitives.Multiply(sig, gh.Slice(start, n), sig);
                TensorPrimitives.Multiply(sig, uh.Slice(start, n), yh.Slice(start, n));
            });
            return;
        }
        var kernel = device.GetKernel("swiglu.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Forward));
        kernel((int)count, gate, up, y);
    }
}
