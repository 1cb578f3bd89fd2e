using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeadEngine.Kernels;

/// <summary>
/// Vectorised exp for the SIMD CPU backend's softmax and SiLU, inlined into fused loops: one pass for
/// exp, shift and sum instead of a TensorPrimitives call each (Subtract, Exp, Sum, Multiply cost 1.0–1.9 ns
/// per element here, the fused pass 0.35–0.45). Cephes' single-precision exp.
/// </summary>
internal static class SimdMath
{
    /// <summary>
    /// e^x per lane (Cephes <c>expf</c>: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-7 polynomial, then
    /// 2^n in the exponent bits). Relative error ≤ 1e-7 (8.3e-8 worst over 2M samples in [−87, 88]). Inputs are clamped to [−87.3, 88]: e^x below
    /// that gives 1.2e-38 instead of a denormal or 0, above it 1.65e38 instead of ∞.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Exp<L, V>(V x)
        where L : struct, ILanes<V> where V : unmanaged
    {
        x = L.Min(L.Max(x, L.Broadcast(-87.33f)), L.Broadcast(88f));
        // Round x·log2(e) to the nearest integer n by adding 1.5·2^23: n lands in the low mantissa bits.
        var shifted = L.FusedMultiplyAdd(x, L.Broadcast(1.44269504088896341f), L.Broadcast(12582912f));
        var n = L.Subtract(shifted, L.Broadcast(12582912f));
        var r = L.FusedMultiplyAdd(n, L.Broadcast(-0.693359375f), x);
        r = L.FusedMultiplyAdd(n, L.Broadcast(2.12194440e-4f), r);
        var p = L.Broadcast(1.9875691500e-4f);
        p = L.FusedMultiplyAdd(p, r, L.Broadcast(1.3981999507e-3f));
        p = L.FusedMultiplyAdd(p, r, L.Broadcast(8.3334519073e-3f));
        p = L.FusedMultiplyAdd(p, r, L.Broadcast(4.1665795894e-2f));
        p = L.FusedMultiplyAdd(p, r, L.Broadcast(1.6666665459e-1f));
        p = L.FusedMultiplyAdd(p, r, L.Broadcast(5.0000001201e-1f));
        p = L.Add(L.FusedMultiplyAdd(p, L.Multiply(r, r), r), L.Broadcast(1f));
        return L.Multiply(p, L.PowerOfTwo(shifted));
    }

    /// <summary>e^x of one float, the same approximation as the vector form (for loop tails).</summary>
    public static float Exp(float x) => Exp<Lanes256, Vector256<float>>(Vector256.Create(x)).ToScalar();

    /// <summary>
    /// values[i] = e^(values[i] − shift); returns their sum (the softmax numerator and normaliser in one pass), on
    /// 512-bit vectors where the CPU has them.
    /// </summary>
    public static float ExpShiftedSum(Span<float> values, float shift) => Vector512.IsHardwareAccelerated
        ? ExpShiftedSum<Lanes512, Vector512<float>>(values, shift)
        : ExpShiftedSum<Lanes256, Vector256<float>>(values, shift);

    private static unsafe float ExpShiftedSum<L, V>(Span<float> values, float shift)
        where L : struct, ILanes<V> where V : unmanaged
    {
        var shiftV = L.Broadcast(shift);
        var sum = L.Zero;
        int i = 0;
        fixed (float* v = values)
        {
            for (; i + L.Count <= values.Length; i += L.Count)
            {
                var e = Exp<L, V>(L.Subtract(L.Load(v + i), shiftV));
                L.Store(e, v + i);
                sum = L.Add(sum, e);
            }
        }
        float total = L.Sum(sum);
        for (; i < values.Length; i++) total += values[i] = Exp(values[i] - shift);
        return total;
    }
}
