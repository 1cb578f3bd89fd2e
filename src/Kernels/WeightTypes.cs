using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ILGPU;

namespace LeadEngine.Kernels;

/// <summary>
/// A weight element as stored in a checkpoint. Kernels are generic over this so that bf16/fp16
/// weights are read as stored and widened to fp32 in registers, never copied to fp32 in memory.
/// </summary>
public interface IWeight
{
    /// <summary>The element widened to fp32.</summary>
    float ToFloat();
}

/// <summary>bfloat16: the top 16 bits of an fp32 (ILGPU has no bf16 type).</summary>
public readonly struct Bf16 : IWeight
{
    /// <summary>Raw bits as stored.</summary>
    public readonly ushort Bits;

    /// <summary>Wraps raw bf16 bits.</summary>
    public Bf16(ushort bits) => Bits = bits;

    /// <inheritdoc />
    public float ToFloat() => Interop.IntAsFloat((uint)Bits << 16);

    /// <summary>Rounds an fp32 to the nearest bf16 (ties to even), as torch does.</summary>
    public static Bf16 FromFloat(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return new Bf16(0x7FC0);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return new Bf16((ushort)((bits + rounding) >> 16));
    }
}

/// <summary>IEEE fp16 as stored.</summary>
public readonly struct F16 : IWeight
{
    /// <summary>The stored value.</summary>
    public readonly ILGPU.Half Value;

    /// <summary>Wraps an fp16 value.</summary>
    public F16(ILGPU.Half value) => Value = value;

    /// <inheritdoc />
    public float ToFloat() => (float)Value;
}

/// <summary>fp32 as stored.</summary>
public readonly struct F32 : IWeight
{
    /// <summary>The stored value.</summary>
    public readonly float Value;

    /// <summary>Wraps an fp32 value.</summary>
    public F32(float value) => Value = value;

    /// <inheritdoc />
    public float ToFloat() => Value;
}

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
