namespace LeadEngine.Learning;

/// <summary>
/// Plackett–Luce sampling without replacement, each next lead drawn with probability ∝
/// exp(mean/τ) among those left: near greedy for small τ, uniform for large.
/// </summary>
public sealed class SoftmaxPolicy(double temperature) : CallListPolicy
{
    /// <summary>τ, in reward units.</summary>
    public double Temperature { get; } = temperature > 0 ? temperature : throw new ArgumentOutOfRangeException(nameof(temperature));

    /// <inheritdoc />
    public override string Name => $"softmax({Temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        double max = candidates.Means.DefaultIfEmpty(0).Max();
        var weights = candidates.Means.Select(m => Math.Exp((m - max) / Temperature)).ToArray();
        IReadOnlyList<int> Draw(Random r) => Sample(weights, Math.Min(k, weights.Length), r);
        var chosen = Draw(rng);
        return new CallList(chosen, EstimateInclusion(weights.Length, chosen, Draw, rng));
    }

    /// <summary>K indices without replacement, each with probability ∝ its weight among those left (Efraimidis–Spirakis keys).</summary>
    private static int[] Sample(double[] weights, int k, Random rng)
    {
        var keys = new double[weights.Length];
        for (int i = 0; i < weights.Length; i++) keys[i] = Math.Log(1 - rng.NextDouble()) / weights[i];
        return TopK(keys, k);
    }
}
