using LeadEngine.Learning;
using System.Globalization;

namespace LeadEngine.Simulation;

/// <summary>An off-policy estimate from one policy's logged lists, beside the target policy's true value on the same days.</summary>
/// <param name="Target">The policy evaluated.</param>
/// <param name="TrueValue">Its conversions per day on the logged days' candidates: the simulator's expected ones, or a replay's logged ones.</param>
/// <param name="Ips">IPS.</param>
/// <param name="SelfNormalizedIps">Self-normalised IPS.</param>
/// <param name="DoublyRobust">Doubly robust (with the reward model the check was given).</param>
/// <param name="Bounded">The bounded estimate (<see cref="OffPolicy.Bounded"/>): its interval widens where the logs give the target's leads too little chance.</param>
/// <param name="UnsupportedShare">The share of the target's inclusion on leads the logs cannot weigh.</param>
public sealed record OffPolicyCheck(string Target, double TrueValue, PolicyEstimate Ips, PolicyEstimate SelfNormalizedIps, PolicyEstimate DoublyRobust,
    PolicyEstimate Bounded, double UnsupportedShare)
{
    /// <summary>The estimators by name, in the order the reports list them.</summary>
    public IEnumerable<(string Name, PolicyEstimate Estimate)> Estimates =>
        [("IPS", Ips), ("SNIPS", SelfNormalizedIps), ("doubly robust", DoublyRobust), ("bounded", Bounded)];

    /// <summary>Whether <paramref name="estimate"/>'s interval holds the true value.</summary>
    public bool Covers(PolicyEstimate estimate) => TrueValue >= estimate.Low && TrueValue <= estimate.High;

    /// <summary>The Markdown table's header: target, true value, each estimator, the unsupported share.</summary>
    public const string MarkdownHeader = "| target | true | IPS | SNIPS | doubly robust | bounded | unsupported |\n| --- | ---: | --- | --- | --- | --- | ---: |";

    /// <summary>This check's row of that table (an estimate whose interval misses the true value is marked ✗).</summary>
    public string MarkdownRow() => string.Create(CultureInfo.InvariantCulture,
        $"| {Target} | {TrueValue:F2} | {string.Join(" | ", Estimates.Select(e => $"{e.Estimate.Value:F2} [{e.Estimate.Low:F2}, {e.Estimate.High:F2}]{(Covers(e.Estimate) ? "" : " ✗")}"))} | {UnsupportedShare:P0} |");

    /// <summary>How many intervals of each estimator hold the true value, e.g. "IPS 2/3, SNIPS 1/3, doubly robust 2/3, bounded 3/3".</summary>
    public static string Coverage(IReadOnlyCollection<OffPolicyCheck> checks) => checks.Count == 0 ? "no checks"
        : string.Join(", ", checks.First().Estimates.Select((e, k) => $"{e.Name} {checks.Count(c => c.Covers(c.Estimates.ElementAt(k).Estimate))}/{checks.Count}"));

    /// <summary>
    /// Estimates one target from logged days and sets them beside its true value: per day, the target's inclusion
    /// of every candidate, the candidates' true values and reward-model predictions, and the rewards of those called.
    /// </summary>
    public static OffPolicyCheck Of<TDay>(string target, IReadOnlyList<TDay> days, Func<TDay, CallList> logged, Func<TDay, double[]> inclusion,
        Func<TDay, IReadOnlyList<double>> trueValue, Func<TDay, IReadOnlyList<double>> predicted, Func<TDay, int, double> reward)
    {
        var lists = new List<LoggedList>();
        double truth = 0;
        foreach (var day in days)
        {
            var (list, t, value, model) = (logged(day), inclusion(day), trueValue(day), predicted(day));
            truth += t.Select((p, j) => p * value[j]).Sum();
            lists.Add(LoggedList.Of(list.Inclusion, t, list.Chosen, i => reward(day, i), model));
        }
        return new OffPolicyCheck(target, truth / days.Count, OffPolicy.Ips(lists), OffPolicy.SelfNormalizedIps(lists), OffPolicy.DoublyRobust(lists),
            OffPolicy.Bounded(lists), OffPolicy.UnsupportedShare(lists));
    }
}
