namespace LeadEngine.Engine;

/// <summary>What a forward pass computes beyond the last hidden states and logits.</summary>
public sealed class ForwardOptions
{
    /// <summary>LoRA adapters to apply; none when null.</summary>
    public LoraAdapter? Adapter { get; init; }

    /// <summary>Score heads to evaluate; none when null.</summary>
    public ScoreHeads? Heads { get; init; }

    /// <summary>Each sequence's structured features, for heads with <see cref="ScoreHeads.FeatureCount"/> &gt; 0.</summary>
    public IReadOnlyList<float[]>? Features { get; init; }

    /// <summary>LM logits for these token ids only (e.g. Yes/No); the full vocabulary when null.</summary>
    public IReadOnlyList<int>? LogitTokenIds { get; init; }

    /// <summary>Keep the residual stream after every layer and the final-norm hidden states.</summary>
    public bool CaptureLayers { get; init; }
}
