namespace LeadEngine.Engine.SafeTensors;

/// <summary>Element types LeadEngine reads and writes.</summary>
public enum TensorDType
{
    /// <summary>IEEE fp32.</summary>
    F32,
    /// <summary>IEEE fp16.</summary>
    F16,
    /// <summary>bfloat16.</summary>
    BF16,
}
