namespace LeadEngine.Kernels;

/// <summary>The number format of the weights in scoring's projections.</summary>
public enum Precision
{
    /// <summary>fp32 weights and activations (the reference).</summary>
    F32,
    /// <summary>
    /// bf16 weights (a packed bf16 copy: half the memory of fp32) and activations rounded to bf16 at each projection,
    /// products summed in fp32: AVX-512 BF16's <c>vdpbf16ps</c> on the SIMD CPU backend where the CPU has it.
    /// </summary>
    Bf16,
    /// <summary>
    /// int8 weights per output column and 512-deep block (a packed copy: a quarter of fp32's memory) and activations
    /// quantized to int8 per row and the same blocks at each projection, integer sums scaled back to fp32: AVX-512 VNNI's <c>vpdpbusd</c> on
    /// the SIMD CPU backend where the CPU has it.
    /// </summary>
    Int8,
}
