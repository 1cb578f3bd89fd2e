using System.Runtime.Intrinsics;
using ILGPU;

namespace LeadEngine.Kernels;

internal sealed partial class SimdBackend
{
    // y = silu(g)·u = g·u / (1 + e^−g); 512-bit vectors where the CPU has them.
    public void SwiGluForward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
    {
        if (Vector512.IsHardwareAccelerated) SwiGluForward<Lanes512, Vector512<float>>(gate, up, y, count);
        else SwiGluForward<Lanes256, Vector256<float>>(gate, up, y, count);
    }

    // dup = dy·silu(g), dg = dy·u·σ(g)·(1 + g·(1 − σ(g))).
    public void SwiGluBackward(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
    {
        if (Vector512.IsHardwareAccelerated) SwiGluBackward<Lanes512, Vector512<float>>(gate, up, dy, dGate, dUp, count);
        else SwiGluBackward<Lanes256, Vector256<float>>(gate, up, dy, dGate, dUp, count);
    }

    private unsafe void SwiGluForward<L, V>(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> y, long count)
        where L : struct, ILanes<V> where V : unmanaged
    {
        var (gh, uh, yh) = (Host(gate), Host(up), Host(y));
        Simd.ForChunks(count, (start, length) =>
        {
            int n = (int)length, i = 0;
            fixed (float* g = gh.Slice(start, n), u = uh.Slice(start, n), output = yh.Slice(start, n))
            {
                for (; i + L.Count <= n; i += L.Count)
                {
                    var gv = L.Load(g + i);
                    L.Store(L.Divide(L.Multiply(gv, L.Load(u + i)), L.Add(L.Broadcast(1f), SimdMath.Exp<L, V>(L.Subtract(L.Zero, gv)))), output + i);
                }
                for (; i < n; i++) output[i] = g[i] / (1f + SimdMath.Exp(-g[i])) * u[i];
            }
        });
    }

    private unsafe void SwiGluBackward<L, V>(ArrayView<float> gate, ArrayView<float> up, ArrayView<float> dy, ArrayView<float> dGate, ArrayView<float> dUp, long count)
        where L : struct, ILanes<V> where V : unmanaged
    {
        var (gh, uh, dyh, dgh, duh) = (Host(gate), Host(up), Host(dy), Host(dGate), Host(dUp));
        Simd.ForChunks(count, (start, length) =>
        {
            int n = (int)length, i = 0;
            fixed (float* g = gh.Slice(start, n), u = uh.Slice(start, n), d = dyh.Slice(start, n), dg = dgh.Slice(start, n), du = duh.Slice(start, n))
            {
                var one = L.Broadcast(1f);
                for (; i + L.Count <= n; i += L.Count)
                {
                    var (gv, dv) = (L.Load(g + i), L.Load(d + i));
                    var sig = L.Divide(one, L.Add(one, SimdMath.Exp<L, V>(L.Subtract(L.Zero, gv))));
                    L.Store(L.Multiply(L.Multiply(dv, gv), sig), du + i);
                    L.Store(L.Multiply(L.Multiply(L.Multiply(dv, L.Load(u + i)), sig), L.FusedMultiplyAdd(gv, L.Subtract(one, sig), one)), dg + i);
                }
                for (; i < n; i++)
                {
                    float sig = 1f / (1f + SimdMath.Exp(-g[i]));
                    du[i] = d[i] * g[i] * sig;
                    dg[i] = d[i] * u[i] * sig * (1f + g[i] * (1f - sig));
                }
            }
        });
    }
}
