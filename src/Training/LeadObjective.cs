using LeadEngine.Engine;

namespace LeadEngine.Training;

/// <summary>Weights of the three loss terms (defaults 1.0 / 0.5 / 0.2).</summary>
public sealed record LossWeights(double Bce = 1.0, double Hpro = 0.5, double Lm = 0.2);

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

/// <summary>The three losses and their weighted total.</summary>
/// <param name="Bce">Pointwise BCE.</param>
/// <param name="Hpro">Pairwise HPRO.</param>
/// <param name="Lm">Semantic LM cross-entropy.</param>
/// <param name="Total">w_bce·BCE + w_hpro·HPRO + w_lm·LM.</param>
public sealed record LossTerms(double Bce, double Hpro, double Lm, double Total);

/// <summary>
/// The asLLR/HPRO objective, <c>w_bce·BCE + w_hpro·HPRO + w_lm·LM</c>, on a LoRA-adapted model with
/// score heads: runs the training forward pass, evaluates the losses (BCE and HPRO on the host, from
/// 2·B scores; LM on the device, over B rows of full-vocabulary logits) and back-propagates into the adapter and head gradients.
/// </summary>
public sealed class LeadObjective(LossWeights weights)
{
    /// <summary>The loss weights.</summary>
    public LossWeights Weights { get; } = weights;

    /// <summary>Losses of a batch and, when <paramref name="backward"/>, accumulated gradients.</summary>
    public LossTerms Evaluate(QwenModel model, LoraAdapter adapter, ScoreHeads heads, ObjectiveBatch batch, bool backward = true, bool recompute = false)
    {
        if (batch.Labels.Length != batch.Sequences.Length)
            throw new ArgumentException($"{batch.Labels.Length} labels for {batch.Sequences.Length} sequences");
        foreach (var p in batch.Pairs)
        {
            if ((uint)p.Better >= batch.Sequences.Length || (uint)p.Worse >= batch.Sequences.Length)
                throw new ArgumentException($"pair ({p.Better}, {p.Worse}) refers to a lead outside the batch of {batch.Sequences.Length}");
        }
        using var pass = model.ForwardForTraining(batch.Sequences, adapter, heads, recompute, batch.Features);
        var losses = model.Device.Time("host.losses");
        var bce = BceLoss.Evaluate(pass.Heads.PointwiseLogits, batch.Labels);
        var hpro = HproLoss.Evaluate(pass.Heads.PairwiseScores, batch.Pairs, batch.TierMargins);
        losses.Dispose();
        double lm = LmLoss.Evaluate(pass, batch.Labels, batch.YesTokenId, batch.NoTokenId, Weights.Lm);
        double total = Weights.Bce * bce.Value + Weights.Hpro * hpro.Value + Weights.Lm * lm;
        if (backward)
            pass.Backward(bce.Gradient.Select(g => (float)(g * Weights.Bce)).ToArray(), hpro.Gradient.Select(g => (float)(g * Weights.Hpro)).ToArray());
        return new LossTerms(bce.Value, hpro.Value, lm, total);
    }
}
