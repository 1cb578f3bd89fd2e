using LeadEngine.Engine;
using LeadEngine.Kernels;
namespace LeadEngine.Training;

/// <summary>A preference pair: lead <see cref="Better"/> should outscore <see cref="Worse"/> by the tier's margin.</summary>
/// <param name="Better">Batch index of the preferred lead.</param>
/// <param name="Worse">Batch index of the other lead.</param>
/// <param name="Tier">HPRO tier (0 global dominance, 1 key action, 2 soft signal).</param>
public readonly record struct PreferencePair(int Better, int Worse, int Tier);

/// <summary>A loss value and its gradient with respect to its inputs.</summary>
/// <param name="Value">The loss.</param>
/// <param name="Gradient">dLoss/dinput, one entry per input.</param>
public sealed record LossAndGradient(double Value, float[] Gradient);

/// <summary>Pointwise head: mean binary cross-entropy with logits against the converted label.</summary>
public static class BceLoss
{
    /// <summary>mean_b [max(z,0) − z·y + log(1 + e^−|z|)]; gradient (σ(z) − y)/B.</summary>
    public static LossAndGradient Evaluate(IReadOnlyList<float> logits, IReadOnlyList<int> labels)
    {
        int n = logits.Count;
        if (labels.Count != n) throw new ArgumentException($"{labels.Count} labels for {n} logits");
        double sum = 0;
        var grad = new float[n];
        for (int i = 0; i < n; i++)
        {
            double z = logits[i], y = labels[i];
            if (labels[i] is not (0 or 1)) throw new ArgumentException($"label {labels[i]} at {i} is not 0 or 1");
            sum += Math.Max(z, 0) - z * y + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            grad[i] = (float)((Sigmoid(z) - y) / n);
        }
        return new LossAndGradient(sum / n, grad);
    }

    internal static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));
}

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
            double g = -BceLoss.Sigmoid(-delta) / pairs.Count;
            grad[p.Better] += (float)g;
            grad[p.Worse] -= (float)g;
        }
        return new LossAndGradient(sum / pairs.Count, grad);
    }
}

/// <summary>
/// The LM (semantic) loss: mean cross-entropy over the full vocabulary of the logits at the last
/// real token, target the Yes token for converted leads and the No token otherwise. The training
/// pass evaluates it on the device (<see cref="CrossEntropyKernels"/>), so the logits, [batch, vocab],
/// never travel to the host and back.
/// </summary>
public static class LmLoss
{
    /// <summary>
    /// Evaluates the loss on <paramref name="pass"/> and leaves <paramref name="weight"/>·dLoss/dlogits there for
    /// its backward pass.
    /// </summary>
    public static double Evaluate(TrainingPass pass, IReadOnlyList<int> labels, int yesTokenId, int noTokenId, double weight)
    {
        var targets = labels.Select(label => label == 1 ? yesTokenId : noTokenId).ToArray();
        var rowLosses = pass.LanguageModelLoss(targets, (float)(weight / targets.Length));
        return rowLosses.Sum(loss => (double)loss) / targets.Length;
    }
}
