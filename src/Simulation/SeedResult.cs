namespace LeadEngine.Simulation;

/// <summary>One world's results.</summary>
/// <param name="Seed">The world's seed.</param>
/// <param name="Policies">Every policy's run.</param>
/// <param name="AbTest">Static vs continuous, half the leads and calls each.</param>
/// <param name="OffPolicy">Estimates from the continuous policy's logs (exploration that earns: little support elsewhere).</param>
/// <param name="OffPolicyFromRandom">Estimates from the random policy's logs (every open lead has propensity K/N: an exploration budget).</param>
public sealed record SeedResult(int Seed, IReadOnlyList<PolicyRun> Policies, AbTest AbTest, IReadOnlyList<OffPolicyCheck> OffPolicy,
    IReadOnlyList<OffPolicyCheck> OffPolicyFromRandom);
