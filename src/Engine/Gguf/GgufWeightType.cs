namespace LeadEngine.Engine.Gguf;

/// <summary>The type of a GGUF file's 2-D weights (1-D tensors are always f32).</summary>
public enum GgufWeightType
{
    /// <summary>fp32.</summary>
    F32,
    /// <summary>bfloat16 (rounded to nearest, ties to even).</summary>
    Bf16,
    /// <summary>Blocks of 32: an fp16 scale max|x|/127 and 32 int8 values round(x / scale).</summary>
    Q8_0,
}
