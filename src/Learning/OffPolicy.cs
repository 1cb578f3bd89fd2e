namespace LeadEngine.Learning;

/// <summary>One logged call-list lead: the logging policy's propensity, the target policy's, the reward, the reward model's prediction.</summary>
/// <param name="LoggedPropensity">P(on the list) under the policy that made the list (&gt; 0).</param>
/// <param name="TargetPropensity">P(on the list) under the policy being evaluated.</param>
/// <param name="Reward">The reward observed.</param>
/// <param name="Predicted">The reward model's prediction for this lead (doubly robust only).</param>
public sealed record LoggedItem(double LoggedPropensity, double TargetPropensity, double Reward, double Predicted = 0);

/// <summary>
/// One logged list (a day's calls): its leads, and the reward model's value of the target policy
/// over every candidate of that day, Σⱼ π_target(j)·r̂(j) (doubly robust only).
/// </summary>
public sealed record LoggedList(IReadOnlyList<LoggedItem> Items, double DirectValue = 0);

/// <summary>An estimate of a policy's value per list with a 95% interval.</summary>
public sealed record PolicyEstimate(double Value, double Low, double High);

/// <summary>
/// Off-policy estimates of the reward a target policy would collect per list, from lists logged
/// by another policy with its propensities. A list's reward is the sum of its leads' rewards, so
/// each lead is weighted by w = π_target / π_logged of its inclusion:
/// <list type="bullet">
/// <item>IPS: the mean over lists of Σᵢ wᵢ·rᵢ (unbiased when the logged propensities are right and positive where the target's are);</item>
/// <item>self-normalised IPS: IPS scaled by the mean list length over the mean of Σᵢ wᵢ per list (whose expectation is the target's list length): biased, much lower variance;</item>
/// <item>doubly robust: the reward model's value plus the IPS-weighted residuals, Σⱼ π_target(j)·r̂(j) + Σᵢ wᵢ(rᵢ − r̂ᵢ): unbiased if either the propensities or the model are right.</item>
/// </list>
/// Intervals are percentile bootstraps over lists (1,000 resamples, seeded).
/// </summary>
public static class OffPolicy
{
    /// <summary>Bootstrap resamples per interval.</summary>
    public const int Resamples = 1000;

    /// <summary>Inverse propensity scoring.</summary>
    public static PolicyEstimate Ips(IReadOnlyList<LoggedList> lists) => Estimate(lists, sample => sample.Average(IpsValue));

    /// <summary>Self-normalised inverse propensity scoring.</summary>
    public static PolicyEstimate SelfNormalizedIps(IReadOnlyList<LoggedList> lists) => Estimate(lists, sample =>
    {
        double weights = sample.Sum(l => l.Items.Sum(Weight));
        double items = sample.Sum(l => l.Items.Count);
        return weights == 0 ? 0 : sample.Sum(IpsValue) * items / (weights * sample.Count);
    });

    /// <summary>Doubly robust.</summary>
    public static PolicyEstimate DoublyRobust(IReadOnlyList<LoggedList> lists) => Estimate(lists, sample => sample.Average(DoublyRobustValue));

    /// <summary>One list's doubly robust value: Σⱼ π_target(j)·r̂(j) + Σᵢ wᵢ(rᵢ − r̂ᵢ).</summary>
    public static double DoublyRobustValue(LoggedList list) => list.DirectValue + list.Items.Sum(i => Weight(i) * (i.Reward - i.Predicted));

    /// <summary>The mean reward per list that was actually collected (the logging policy's own value).</summary>
    public static PolicyEstimate OnPolicy(IReadOnlyList<LoggedList> lists) => Estimate(lists, sample => sample.Average(l => l.Items.Sum(i => i.Reward)));

    private static double Weight(LoggedItem item) =>
        item.LoggedPropensity > 0 ? item.TargetPropensity / item.LoggedPropensity
            : throw new ArgumentException("a logged lead has propensity 0: the logging policy could not have chosen it");

    private static double IpsValue(LoggedList list) => list.Items.Sum(i => Weight(i) * i.Reward);

    private static PolicyEstimate Estimate(IReadOnlyList<LoggedList> lists, Func<IReadOnlyList<LoggedList>, double> statistic) => Bootstrap(lists, statistic);

    /// <summary>A statistic of <paramref name="lists"/> with its 95% percentile-bootstrap interval (resampling whole items, seeded).</summary>
    public static PolicyEstimate Bootstrap<T>(IReadOnlyList<T> lists, Func<IReadOnlyList<T>, double> statistic)
    {
        if (lists.Count == 0) return new PolicyEstimate(double.NaN, double.NaN, double.NaN);
        double value = statistic(lists);
        var rng = new Random(12345);
        var draws = new double[Resamples];
        var sample = new T[lists.Count];
        for (int b = 0; b < Resamples; b++)
        {
            for (int i = 0; i < sample.Length; i++) sample[i] = lists[rng.Next(lists.Count)];
            draws[b] = statistic(sample);
        }
        Array.Sort(draws);
        return new PolicyEstimate(value, draws[(int)(0.025 * (Resamples - 1))], draws[(int)Math.Ceiling(0.975 * (Resamples - 1))]);
    }
}
