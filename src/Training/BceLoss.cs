using LeadEngine.Engine;
namespace LeadEngine.Training;

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
            grad[i] = (float)((Logistic.Sigmoid(z) - y) / n);
        }
        return new LossAndGradient(sum / n, grad);
    }
}
