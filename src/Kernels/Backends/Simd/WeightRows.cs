using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeadEngine.Kernels;

/// <summary>Host-side widening of stored weights for the SIMD CPU backend.</summary>
internal static class WeightRows
{
    /// <summary>Writes <paramref name="destination"/>.Length weights from <paramref name="offset"/> as fp32.</summary>
    public static unsafe void Widen<TW>(HostSpan<TW> weights, long offset, Span<float> destination) where TW : unmanaged, IWeight
    {
        var source = weights.Slice(offset, destination.Length);
        if (typeof(TW) == typeof(F32))
        {
            MemoryMarshal.Cast<TW, float>(source).CopyTo(destination);
        }
        else if (typeof(TW) == typeof(F16))
        {
            TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<TW, System.Half>(source), destination);
        }
        else if (typeof(TW) == typeof(Bf16))
        {
            // bf16 → fp32 is a 16-bit left shift of the bits: widen ushort lanes to uint and shift.
            var bits = MemoryMarshal.Cast<TW, ushort>(source);
            var output = MemoryMarshal.Cast<float, uint>(destination);
            int i = 0;
            for (; i + Vector256<ushort>.Count <= bits.Length; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create<ushort>(bits.Slice(i)));
                (lower << 16).CopyTo(output.Slice(i));
                (upper << 16).CopyTo(output.Slice(i + Vector256<uint>.Count));
            }
            for (; i < bits.Length; i++) output[i] = (uint)bits[i] << 16;
        }
        else
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = source[i].ToFloat();
        }
    }
}
