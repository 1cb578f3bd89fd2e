using ILGPU;
using System.Runtime.Intrinsics;
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
                int n = (int)length, i = 0;
                Span<float> g = gh.Slice(start, n), u = uh.Slice(start, n), d = dyh.Slice(start, n), dg = dgh.Slice(start, n), du = duh.Slice(start, n);
                for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                {
                    var (gv, dv) = (Vector256.Create<float>(g[i..]), Vector256.Create<float>(d[i..]));
                    var sig = Vector256<float>.One / (Vector256<float>.One + SimdMath.Exp(-gv));
                    (dv * gv * sig).CopyTo(du[i..]);                                                          // dup = dy·silu(g)
                    (dv * Vector256.Create<float>(u[i..]) * sig * (Vector256<float>.One + gv * (Vector256<float>.One - sig))).CopyTo(dg[i..]);
                }
                for (; i < n; i++) Backward(new Index1D((int)(start + i)), gate, up, dy, dGate, dUp);   // the tail runs the kernel's own code
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
                int n = (int)length, i = 0;
                Span<float> g = gh.Slice(start, n), u = uh.Slice(start, n), output = yh.Slice(start, n);
                for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                {
                    var gv = Vector256.Create<float>(g[i..]);
                    (gv * Vector256.Create<float>(u[i..]) / (Vector256<float>.One + SimdMath.Exp(-gv))).CopyTo(output[i..]);
                }
                for (; i < n; i++) Forward(new Index1D((int)(start + i)), gate, up, y);   // the tail runs the kernel's own code
            });
            return;
        }
        var kernel = device.GetKernel("swiglu.fwd", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Forward));
        kernel((int)count, gate, up, y);
    }
}
