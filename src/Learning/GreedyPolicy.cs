namespace LeadEngine.Learning;

/// <summary>The K highest expected rewards; propensity 1 for them, 0 for the rest.</summary>
public sealed class GreedyPolicy : CallListPolicy
{
    /// <inheritdoc />
    public override string Name => "greedy";

    /// <summary>The greedy list of <paramref name="scores"/> (no randomness involved).</summary>
    public static CallList Of(IReadOnlyList<double> scores, int k) => new GreedyPolicy().Choose(new CandidateSet(scores), k, System.Random.Shared);

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        var chosen = TopK(candidates.Means, k);
        var inclusion = new double[candidates.Count];
        foreach (int i in chosen) inclusion[i] = 1;
        return new CallList(chosen, inclusion);
    }
}
