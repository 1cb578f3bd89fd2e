namespace LeadEngine.Learning;

/// <summary>
/// Thompson sampling: draw every lead's reward from the model's posterior once, call the K best of
/// that draw. Leads the model is unsure about get called sometimes, in proportion to the chance
/// that they are among the best.
/// </summary>
public sealed class ThompsonPolicy : CallListPolicy
{
    /// <inheritdoc />
    public override string Name => "thompson";

    /// <inheritdoc />
    public override bool NeedsPosterior => true;

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        var sample = candidates.SampleScores ?? throw new InvalidOperationException("Thompson sampling needs a model with a posterior (CandidateSet.SampleScores)");
        IReadOnlyList<int> Draw(Random r) => TopK(sample(r), Math.Min(k, candidates.Count));
        var chosen = Draw(rng);
        return new CallList(chosen, EstimateInclusion(candidates.Count, chosen, Draw, rng));
    }
}
