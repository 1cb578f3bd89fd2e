namespace LeadEngine.Learning;

/// <summary>
/// With probability ε the whole list is a uniform random K of the candidates (in random order), else the
/// inner policy's list: inclusion ε·K/N + (1 − ε)·(the inner policy's inclusion). Every candidate keeps a
/// propensity of at least ε·K/N, so off-policy estimates of any other policy stay inside the logging
/// support (a near-greedy Thompson posterior alone would give most leads none).
/// </summary>
public class UniformMixturePolicy(CallListPolicy inner, double epsilon) : CallListPolicy
{
    /// <summary>Share of lists chosen at random.</summary>
    public double Epsilon { get; } = epsilon is > 0 and <= 1 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), "epsilon must be in (0, 1]");

    /// <inheritdoc />
    public override string Name => $"{inner.Name}+uniform({Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <inheritdoc />
    public override bool NeedsPosterior => inner.NeedsPosterior;

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        int n = candidates.Count;
        k = Math.Min(k, n);
        var own = inner.Choose(candidates, k, rng);
        IReadOnlyList<int> chosen = own.Chosen;
        if (rng.NextDouble() < Epsilon)
        {
            var all = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(all);
            chosen = all[..k];
        }
        var inclusion = new double[n];
        for (int i = 0; i < n; i++) inclusion[i] = Epsilon * k / n + (1 - Epsilon) * own.Inclusion[i];
        return new CallList(chosen, inclusion);
    }
}
