namespace LeadEngine.Learning;

/// <summary>How a call list of K leads is chosen from the open leads.</summary>
public abstract class CallListPolicy
{
    /// <summary>Name and parameters, as logged in the policy version (<c>thompson</c>, <c>epsilon-greedy(0.1)</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Chooses min(k, count) candidates and gives every candidate's inclusion probability.</summary>
    public abstract CallList Choose(CandidateSet candidates, int k, Random rng);

    /// <summary>True when the policy draws from a posterior (<see cref="CandidateSet.SampleScores"/>): the service then keeps an <see cref="OutcomePosterior"/>.</summary>
    public virtual bool NeedsPosterior => false;

    /// <summary>Posterior draws used to estimate the inclusion probability of the sampling policies.</summary>
    public const int PropensityDraws = 500;

    /// <summary>Every candidate's inclusion under a uniformly random list of K out of <paramref name="count"/>: min(1, K/N).</summary>
    public static double[] UniformInclusion(int count, int k) => Enumerable.Repeat(Math.Min(1.0, (double)k / count), count).ToArray();

    /// <summary>The K indices with the highest values, ties to the lower index.</summary>
    public static int[] TopK(IReadOnlyList<double> values, int k) =>
        Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k).ToArray();

    /// <summary>
    /// Inclusion probabilities of a sampling policy, by simulation: the share of
    /// <see cref="PropensityDraws"/> further draws, plus the draw actually made, in which each
    /// candidate is listed. The chosen candidates thus never get a zero propensity, and the
    /// estimates sum to the list length exactly.
    /// </summary>
    protected static double[] EstimateInclusion(int count, IReadOnlyList<int> chosen, Func<Random, IReadOnlyList<int>> draw, Random rng)
    {
        var hits = new double[count];
        foreach (int i in chosen) hits[i]++;
        for (int m = 0; m < PropensityDraws; m++)
            foreach (int i in draw(rng)) hits[i]++;
        for (int i = 0; i < count; i++) hits[i] /= PropensityDraws + 1;
        return hits;
    }

    /// <summary>
    /// A policy from its command-line name: greedy, epsilon-greedy[:ε], softmax[:τ], thompson[:share] (Thompson sampling with
    /// that share of the calls in exploration slots, <see cref="ExplorationSlotsPolicy.DefaultShare"/> by default: without
    /// them a guarded head that has not earned its way lists greedily, and the logs could never weigh another ranking).
    /// </summary>
    public static CallListPolicy Parse(string text)
    {
        var parts = text.Split(':', 2);
        double Parameter(double fallback) => parts.Length == 1 ? fallback
            : double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0
                ? v : throw new ArgumentException($"policy '{text}': '{parts[1]}' is not a positive number");
        try
        {
            return parts[0] switch
            {
                "greedy" => new GreedyPolicy(),
                "epsilon-greedy" => new EpsilonGreedyPolicy(Parameter(0.1)),
                "softmax" => new SoftmaxPolicy(Parameter(0.05)),
                "thompson" => ExplorationSlotsPolicy.Thompson(Parameter(ExplorationSlotsPolicy.DefaultShare)),
                _ => throw new ArgumentException($"unknown policy '{text}': greedy, epsilon-greedy[:EPSILON], softmax[:TEMPERATURE] or thompson[:EXPLORATION_SHARE]"),
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            // The policies check their own parameters; the message names the text the user gave.
            throw new ArgumentException($"policy '{text}': {e.Message}", e);
        }
    }
}
