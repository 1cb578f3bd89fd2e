namespace LeadEngine.Engine;

/// <summary>Outputs of a forward pass over a right-padded batch.</summary>
public sealed class ForwardResult
{
    /// <summary>Padded sequence length T of the batch.</summary>
    public required int SeqLen { get; init; }

    /// <summary>Final-norm hidden state at each sequence's last real token: [batch][hidden].</summary>
    public required float[][] LastHidden { get; init; }

    /// <summary>LM logits at each sequence's last real token: [batch][vocab or token list].</summary>
    public required float[][] LastLogits { get; init; }

    /// <summary>The score heads' outputs, when heads were given.</summary>
    public ScoreHeadOutputs? Heads { get; init; }

    /// <summary>With <see cref="ForwardOptions.CaptureLayers"/>: residual stream after each layer, [layer][batch·T·hidden].</summary>
    public float[][]? LayerResiduals { get; init; }

    /// <summary>With <see cref="ForwardOptions.CaptureLayers"/>: final-norm hidden states, [batch·T·hidden].</summary>
    public float[]? FinalHidden { get; init; }
}
