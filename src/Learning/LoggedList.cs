namespace LeadEngine.Learning;

/// <summary>
/// One logged list (a day's calls): its leads, and the reward model's value of the target policy
/// over every candidate of that day, Σⱼ π_target(j)·r̂(j) (doubly robust only).
/// </summary>
/// <param name="Items">The leads called.</param>
/// <param name="DirectValue">Σⱼ π_target(j)·r̂(j) over every candidate.</param>
/// <param name="Unsupported">The candidates the logging policy gave too little chance to be weighed (<see cref="OffPolicy.Bounded"/>); null: none known.</param>
public sealed record LoggedList(IReadOnlyList<LoggedItem> Items, double DirectValue = 0, UnsupportedPart? Unsupported = null)
{
    /// <summary>
    /// A list from every candidate's inclusion under the logging and the target policy (the target's may be a signed
    /// difference of two policies), the leads called, their rewards, and the reward model's predictions.
    /// </summary>
    public static LoggedList Of(IReadOnlyList<double> logged, IReadOnlyList<double> target, IReadOnlyList<int> chosen, Func<int, double> reward,
        IReadOnlyList<double> predicted)
    {
        double low = 0, high = 0, model = 0, direct = 0, mass = 0;
        for (int j = 0; j < target.Count; j++)
        {
            direct += target[j] * predicted[j];
            mass += Math.Abs(target[j]);
            if (OffPolicy.Supported(logged[j], target[j])) continue;
            low += Math.Min(0, target[j]);
            high += Math.Max(0, target[j]);
            model += target[j] * predicted[j];
        }
        return new LoggedList(chosen.Select(i => new LoggedItem(logged[i], target[i], reward(i), predicted[i])).ToList(), direct,
            new UnsupportedPart(low, high, model, mass));
    }
}
