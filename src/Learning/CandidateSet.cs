namespace LeadEngine.Learning;

/// <summary>
/// The leads a policy chooses from: each one's expected reward under the current model and,
/// for Thompson sampling, a way to draw every lead's reward from the model's posterior at once.
/// </summary>
/// <param name="Means">Expected reward per candidate.</param>
/// <param name="SampleScores">One posterior draw of every candidate's reward; null when the model has no uncertainty estimate.</param>
public sealed record CandidateSet(IReadOnlyList<double> Means, Func<Random, double[]>? SampleScores = null)
{
    /// <summary>Number of candidates.</summary>
    public int Count => Means.Count;
}
