using LeadEngine.Engine;
namespace LeadEngine.Training;

/// <summary>
/// HPRO, the pairwise head's hierarchical preference loss: mean over pairs of
/// −log σ(s_better − s_worse − margin[tier]). No pairs gives zero loss and zero gradient.
/// </summary>
public static class HproLoss
{
    /// <summary>Evaluates the loss and dLoss/dscore for every lead.</summary>
    public static LossAndGradient Evaluate(IReadOnlyList<float> scores, IReadOnlyList<PreferencePair> pairs, IReadOnlyList<float> tierMargins)
    {
        var grad = new float[scores.Count];
        if (pairs.Count == 0) return new LossAndGradient(0, grad);
        double sum = 0;
        foreach (var p in pairs)
        {
            if (p.Tier < 0 || p.Tier >= tierMargins.Count) throw new ArgumentException($"pair tier {p.Tier} has no margin ({tierMargins.Count} tiers)");
            double delta = scores[p.Better] - scores[p.Worse] - tierMargins[p.Tier];
            // −log σ(Δ) = softplus(−Δ), computed stably; d/dΔ = −σ(−Δ).
            sum += delta > 0 ? Math.Log(1 + Math.Exp(-delta)) : -delta + Math.Log(1 + Math.Exp(delta));
            double g = -Logistic.Sigmoid(-delta) / pairs.Count;
            grad[p.Better] += (float)g;
            grad[p.Worse] -= (float)g;
        }
        return new LossAndGradient(sum / pairs.Count, grad);
    }
}
