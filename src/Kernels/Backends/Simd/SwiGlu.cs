using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    public void SwiGluForward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        var (gh, uh, yh) = (Host(gate), Host(up), Host(y));
        Simd.ForChunks(count, (start, length) =>
        {
            int n = (int)length, i = 0;
            Span<float> g = gh.Slice(start, n), u = uh.Slice(start, n), output = yh.Slice(start, n);
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            {
                var gv = Vector256.Create<float>(g[i..]);
                (gv * Vector256.Create<float>(u[i..]) / (Vector256<float>.One + SimdMath.Exp(-gv))).CopyTo(output[i..]);
            }
            for (; i < n; i++) output[i] = g[i] / (1f + MathF.Exp(-g[i])) * u[i];
        });
    }

    public void SwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
    {
        var (gh, uh, dyh, dgh, duh) = (Host(gate), Host(up), Host(dy), Host(dGate), Host(dUp));
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
            for (; i < n; i++)
            {
                float sig = 1f / (1f + MathF.Exp(-g[i]));
                du[i] = d[i] * g[i] * sig;
                dg[i] = d[i] * u[i] * sig * (1f + g[i] * (1f - sig));
            }
        });
    }
}
