namespace LeadEngine.Engine;

/// <summary>Which learning-rate group a trainable tensor belongs to.</summary>
public enum ParameterGroup
{
    /// <summary>LoRA adapters (trained at a lower rate).</summary>
    Lora,
    /// <summary>The pointwise and pairwise score heads (the base rate).</summary>
    Heads,
}
