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

    /// <summary>
    /// Two floats rounded to bf16 as one 32-bit pair, <paramref name="low"/> in the low half: the operand format of
    /// <c>vdpbf16ps</c> and of the tensor cores' bf16 <c>mma</c> (the lower k first). Kernels call it too.
    /// </summary>
    public static uint Pair(float low, float high) => FromFloat(low).Bits | ((uint)FromFloat(high).Bits << 16);

    /// <summary>Rounds an fp32 to the nearest bf16 (ties to even), as torch does; kernels call it too.</summary>
    public static Bf16 FromFloat(float value)
    {
        uint bits = Interop.FloatAsInt(value);
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
