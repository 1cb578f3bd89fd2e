namespace LeadEngine.Training;

/// <summary>One training batch: token sequences with labels, answer tokens and HPRO pairs.</summary>
public sealed record ObjectiveBatch
{
    /// <summary>Prompt token ids per lead (no padding).</summary>
    public required int[][] Sequences { get; init; }
    /// <summary>Converted labels (0/1) per lead.</summary>
    public required int[] Labels { get; init; }
    /// <summary>Preference pairs within the batch.</summary>
    public required PreferencePair[] Pairs { get; init; }
    /// <summary>Margin per HPRO tier (defaults: global 1.0, key action 0.5, soft signal 0.2).</summary>
    public float[] TierMargins { get; init; } = [1.0f, 0.5f, 0.2f];
    /// <summary>The "Yes" answer token.</summary>
    public required int YesTokenId { get; init; }
    /// <summary>The "No" answer token.</summary>
    public required int NoTokenId { get; init; }
    /// <summary>Each lead's structured features, for wide-and-deep heads; null when the heads read none.</summary>
    public float[][]? Features { get; init; }
}
