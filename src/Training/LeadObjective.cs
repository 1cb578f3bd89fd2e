using LeadEngine.Engine;

namespace LeadEngine.Training;

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
