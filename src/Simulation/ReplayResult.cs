namespace LeadEngine.Simulation;

/// <summary>A replay's results: every policy, the continuous policy's uplift over static, and the off-policy checks.</summary>
public sealed record ReplayResult(ReplayOptions Options, int HistoryLeads, int Days, double HistoryRate, double ReplayRate,
    IReadOnlyList<ReplayPolicy> Policies, (double Mean, double Low, double High) UpliftVsStatic, IReadOnlyList<OffPolicyCheck> OffPolicy)
{
    /// <summary>Static, periodic and funnel_recency: what a continuous policy must not do worse than.</summary>
    public static readonly string[] Alternatives = ["static", "periodic", "funnel_recency"];

    /// <summary>The alternative with the most conversions (the first named on a tie).</summary>
    public ReplayPolicy BestAlternative => Alternatives.Select(name => Policies.Single(p => p.Name == name)).MaxBy(p => p.Conversions)!;

    /// <summary>Continuous's conversions over the best alternative's.</summary>
    public double ShareOfBest => (double)Policies.Single(p => p.Name == "continuous").Conversions / Math.Max(1, BestAlternative.Conversions);
}
