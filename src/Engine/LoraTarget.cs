namespace LeadEngine.Engine;

/// <summary>The projections of a Qwen layer that LoRA can adapt.</summary>
public enum LoraTarget
{
    /// <summary>self_attn.q_proj</summary>
    Q,
    /// <summary>self_attn.k_proj</summary>
    K,
    /// <summary>self_attn.v_proj</summary>
    V,
    /// <summary>self_attn.o_proj</summary>
    O,
    /// <summary>mlp.gate_proj</summary>
    Gate,
    /// <summary>mlp.up_proj</summary>
    Up,
    /// <summary>mlp.down_proj</summary>
    Down,
}
