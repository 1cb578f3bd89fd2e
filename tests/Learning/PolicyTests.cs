using LeadEngine.Feedback;
using LeadEngine.Learning;

namespace LeadEngine.Tests.Learning;

/// <summary>Call-list policies: propensities that sum to the list length and match how often the sampler really lists each lead.</summary>
public sealed class PolicyTests
{
    private static readonly double[] Means = [0.30, 0.25, 0.24, 0.10, 0.05, 0.02, 0.01];

    private static CandidateSet Candidates()
    {
        // A posterior: each lead's reward independently N(mean, 0.08²).
        return new CandidateSet(Means, r => Means.Select(m => m + 0.08 * LeadEngine.LeadScoring.SyntheticLeads.Gaussian(r)).ToArray());
    }

    public static IEnumerable<object[]> Policies() =>
        [["greedy"], ["epsilon-greedy:0.2"], ["softmax:0.05"], ["thompson"]];

    [Theory, MemberData(nameof(Policies))]
    public void PropensitiesSumToTheListLengthAndMatchEmpiricalFrequencies(string name) => CheckPropensities(CallListPolicy.Parse(name));

    /// <summary>Thompson sampling with a uniform share (the replay's logging policy): every lead keeps at least ε·K/N.</summary>
    [Fact]
    public void UniformMixtureKeepsEveryLeadInTheLoggingSupport()
    {
        var policy = new UniformMixturePolicy(new ThompsonPolicy(), 0.2);
        CheckPropensities(policy);
        var list = policy.Choose(Candidates(), 3, new Random(2));
        Assert.All(list.Inclusion, p => Assert.True(p >= 0.2 * 3 / Means.Length - 1e-12));
        Assert.Equal("thompson+uniform(0.2)", policy.Name);
    }

    private static void CheckPropensities(CallListPolicy policy)
    {
        string name = policy.Name;
        const int K = 3, Lists = 4000;
        var rng = new Random(11);
        var counts = new double[Means.Length];
        var reported = new double[Means.Length];
        for (int n = 0; n < Lists; n++)
        {
            var list = policy.Choose(Candidates(), K, rng);
            Assert.Equal(K, list.Chosen.Count);
            Assert.Equal(K, list.Chosen.Distinct().Count());
            Assert.Equal(K, list.Inclusion.Sum(), 9);
            Assert.All(list.Chosen, i => Assert.True(list.Inclusion[i] > 0, $"chosen lead {i} has propensity 0"));
            // Per slot the propensities sum to one.
            Assert.Equal(1, list.Inclusion.Sum() / K, 9);
            foreach (int i in list.Chosen) counts[i]++;
            for (int i = 0; i < Means.Length; i++) reported[i] += list.Inclusion[i];
        }
        for (int i = 0; i < Means.Length; i++)
            Assert.True(Math.Abs(counts[i] / Lists - reported[i] / Lists) < 0.025,
                $"{name}: lead {i} listed in {counts[i] / Lists:P1} of lists, propensity says {reported[i] / Lists:P1}");
    }

    [Fact]
    public void EpsilonGreedyPropensitiesAreExact()
    {
        var list = new EpsilonGreedyPolicy(0.2).Choose(new CandidateSet(Means), 2, new Random(1));
        // Top two (0 and 1): 0.8 + 0.2·2/7; the rest 0.2·2/7.
        Assert.Equal(0.8 + 0.4 / 7, list.Inclusion[0], 12);
        Assert.Equal(0.4 / 7, list.Inclusion[6], 12);
        Assert.Equal([0, 1], new GreedyPolicy().Choose(new CandidateSet(Means), 2, new Random(1)).Chosen);
        Assert.Throws<ArgumentException>(() => CallListPolicy.Parse("softmax:-1"));
        Assert.Throws<ArgumentException>(() => CallListPolicy.Parse("ucb"));
        Assert.Throws<InvalidOperationException>(() => new ThompsonPolicy().Choose(new CandidateSet(Means), 2, new Random(1)));
    }
}

/// <summary>The off-policy estimators against hand computations.</summary>
public sealed class OffPolicyTests
{
    // Two logged lists. List 1: leads with logged propensities 0.5 and 0.25, target 1 and 0.5, rewards 1 and 0,
    // model predictions 0.6 and 0.2, direct value 1.1. List 2: one lead, logged 0.8, target 0.4, reward 1, predicted 0.5, direct 0.7.
    private static readonly LoggedList[] Logged =
    [
        new([new LoggedItem(0.5, 1, 1, 0.6), new LoggedItem(0.25, 0.5, 0, 0.2)], 1.1),
        new([new LoggedItem(0.8, 0.4, 1, 0.5)], 0.7),
    ];

    [Fact]
    public void EstimatesMatchHandComputations()
    {
        // IPS: list 1: 2·1 + 2·0 = 2; list 2: 0.5·1 = 0.5; mean 1.25.
        Assert.Equal(1.25, OffPolicy.Ips(Logged).Value, 12);
        // SNIPS: Σ IPS = 2.5, items 3, Σ weights = 2 + 2 + 0.5 = 4.5, lists 2: 2.5·3 / (4.5·2).
        Assert.Equal(2.5 * 3 / (4.5 * 2), OffPolicy.SelfNormalizedIps(Logged).Value, 12);
        // DR: list 1: 1.1 + 2(1 − 0.6) + 2(0 − 0.2) = 1.5; list 2: 0.7 + 0.5(1 − 0.5) = 0.95; mean 1.225.
        Assert.Equal(1.225, OffPolicy.DoublyRobust(Logged).Value, 12);
        Assert.Equal(1.0, OffPolicy.OnPolicy(Logged).Value, 12);
        foreach (var e in new[] { OffPolicy.Ips(Logged), OffPolicy.SelfNormalizedIps(Logged), OffPolicy.DoublyRobust(Logged) })
            Assert.True(e.Low <= e.Value && e.Value <= e.High, $"{e}");
        Assert.Throws<ArgumentException>(() => OffPolicy.Ips([new LoggedList([new LoggedItem(0, 1, 1)])]));
    }

    [Fact]
    public void IpsRecoversATargetPolicysValueFromLoggedExploration()
    {
        // Five leads with known reward rates; logging: uniform single pick; target: always lead 4.
        double[] rate = [0.1, 0.2, 0.3, 0.4, 0.9];
        var rng = new Random(2);
        var lists = Enumerable.Range(0, 20000).Select(_ =>
        {
            int i = rng.Next(5);
            double r = rng.NextDouble() < rate[i] ? 1 : 0;
            return new LoggedList([new LoggedItem(0.2, i == 4 ? 1 : 0, r, rate[i])], rate[4]);
        }).ToList();
        var ips = OffPolicy.Ips(lists);
        Assert.True(ips.Low <= 0.9 && 0.9 <= ips.High, $"{ips}");
        Assert.Equal(0.9, OffPolicy.SelfNormalizedIps(lists).Value, 1);
        Assert.Equal(0.9, OffPolicy.DoublyRobust(lists).Value, 2);
    }
}

/// <summary>Delayed outcomes joined to the recommendations they answer.</summary>
public sealed class RewardJoinTests
{
    private static readonly DateTimeOffset T0 = new(2025, 5, 1, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void OutcomesJoinTheirRecommendationAndPendingOnesAreNotNegatives()
    {
        var window = TimeSpan.FromDays(7);
        Recommendation Listed(string lead, int day) => new($"list{day}", lead, 1, "thompson@v1", 0.4, 0.1, T0.AddDays(day));
        var recommendations = new[] { Listed("A", 0), Listed("B", 0), Listed("C", 0), Listed("A", 10), Listed("D", 12) };
        var events = new[]
        {
            new OutcomeEvent("e1", "A", OutcomeKind.Contacted, T0.AddDays(1), 40),
            new OutcomeEvent("e2", "A", OutcomeKind.Responded, T0.AddDays(3), 200), // the best of A's first listing
            new OutcomeEvent("e3", "B", OutcomeKind.Converted, T0.AddDays(9)),     // after B's window: not attributed
            new OutcomeEvent("e4", "A", OutcomeKind.Converted, T0.AddDays(11)),    // answers A's second listing
            new OutcomeEvent("e5", "Z", OutcomeKind.Converted, T0.AddDays(1)),     // never listed
            new OutcomeEvent("e6", "C", OutcomeKind.Ignored, T0.AddDays(-1)),      // before C was listed
        };
        var joined = RewardJoin.Join(recommendations, events, now: T0.AddDays(13), window);
        // D (listed day 12) has no outcome and its window is open: pending, left out.
        Assert.Equal(["A", "B", "C", "A"], joined.Select(j => j.Recommendation.LeadId));
        Assert.Equal(OutcomeKind.Responded, joined[0].Outcome);
        Assert.Equal(0.3, joined[0].Reward);
        Assert.Equal(200, joined[0].CallSeconds);
        Assert.Null(joined[1].Outcome); // window closed without an outcome: ignored, reward 0
        Assert.Equal(0, joined[1].Reward);
        Assert.Null(joined[2].Outcome);
        Assert.Equal(OutcomeKind.Converted, joined[3].Outcome);
        Assert.Equal(1, joined[3].Reward);
        // Ranked as HPRO tiers: converted > responded > contacted > ignored.
        Assert.True(Rewards.Tier(OutcomeKind.Converted) > Rewards.Tier(OutcomeKind.Responded));
        Assert.True(Rewards.Tier(OutcomeKind.Responded) > Rewards.Tier(OutcomeKind.Contacted));
        Assert.True(Rewards.Tier(OutcomeKind.Contacted) > Rewards.Tier(OutcomeKind.Ignored));
    }

    [Fact]
    public void OutcomesBecomeFunnelStagesForTraining()
    {
        var funnel = LeadEngine.LeadScoring.FunnelConfig.Automotive;
        var lead = new LeadEngine.LeadScoring.Lead { Id = "A", CreatedAt = T0 };
        Assert.Equal(("order", 1), Stage(Rewards.AsTrainingLead(lead, OutcomeKind.Converted, null, funnel)));
        Assert.Equal(("test_drive", 0), Stage(Rewards.AsTrainingLead(lead, OutcomeKind.Responded, 90, funnel)));
        Assert.Equal(("telemarketing", 0), Stage(Rewards.AsTrainingLead(lead, OutcomeKind.Contacted, null, funnel)));
        Assert.Equal(("lead", 0), Stage(Rewards.AsTrainingLead(lead, OutcomeKind.Ignored, null, funnel)));
        Assert.Equal(("lost", 0), Stage(Rewards.AsTrainingLead(lead, OutcomeKind.Lost, null, funnel)));
        Assert.Equal(90, Rewards.AsTrainingLead(lead, OutcomeKind.Responded, 90, funnel).CallSeconds);
    }

    private static (string?, int?) Stage(LeadEngine.LeadScoring.Lead l) => (l.Stage, l.Converted);
}
