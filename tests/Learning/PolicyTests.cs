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
        [["greedy"], ["epsilon-greedy:0.2"], ["softmax:0.05"], ["thompson"], ["thompson:0.5"]];

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

    /// <summary>
    /// Exploration slots (the replay's logging policy): a list explores among the leads the inner policy left, in
    /// proportion to their expected reward within strata dealt by rank, with share·k slots on average (rounded at
    /// random), and the propensities are exact (greedy inside) or match the draws (Thompson).
    /// </summary>
    [Fact]
    public void ExplorationSlotsExploreTheirShareOfCallsWhereACallMayConvert()
    {
        CheckPropensities(new ExplorationSlotsPolicy(new ThompsonPolicy(), 1.0 / 3));
        var greedy = new ExplorationSlotsPolicy(new GreedyPolicy(), 1.0 / 3);
        CheckPropensities(greedy);
        var list = greedy.Choose(new CandidateSet(Means), 3, new Random(5));
        Assert.Equal([0, 1], list.Chosen.Take(2));                 // k − m = 2 by the inner policy, then one slot
        Assert.Equal(1, list.Explored);
        // One stratum: the five left, each in proportion to its mean over their sum, 0.42.
        double[] oneSlot = [1, 1, .. new[] { 0.24, 0.10, 0.05, 0.02, 0.01 }.Select(m => m / 0.42)];
        Assert.Equal(Rounded(oneSlot), Rounded(list.Inclusion));
        Assert.Equal("greedy+exploration-slots(0.333)", new ExplorationSlotsPolicy(new GreedyPolicy(), 0.333).Name);
        // Two slots (k = 4): the five left, by rank, dealt into {2, 4, 6} (sum 0.30) and {3, 5} (sum 0.12), one draw from each.
        var two = new ExplorationSlotsPolicy(new GreedyPolicy(), 0.5);
        CheckPropensities(two, K: 4);
        var wide = two.Choose(new CandidateSet(Means), 4, new Random(5));
        Assert.Equal(2, wide.Explored);
        Assert.Equal(Rounded([1, 1, 0.24 / 0.30, 0.10 / 0.12, 0.05 / 0.30, 0.02 / 0.12, 0.01 / 0.30]), Rounded(wide.Inclusion));
        Assert.Contains(wide.Chosen[2], new[] { 2, 4, 6 });
        Assert.Contains(wide.Chosen[3], new[] { 3, 5 });
        // A share of 0.1 on lists of 3: no slot with chance 0.7, one with chance 0.3; the greedy top 3 drops lead 2 for a
        // draw over the five left (sum 0.42) when it explores.
        var few = new ExplorationSlotsPolicy(new GreedyPolicy(), 0.1);
        CheckPropensities(few);
        double[] mixed = [1, 1, 0.7 + 0.3 * 0.24 / 0.42, .. new[] { 0.10, 0.05, 0.02, 0.01 }.Select(m => 0.3 * m / 0.42)];
        var rng = new Random(7);
        var lists = Enumerable.Range(0, 2000).Select(_ => few.Choose(new CandidateSet(Means), 3, rng)).ToList();
        Assert.All(lists, l => Assert.Equal(Rounded(mixed), Rounded(l.Inclusion)));
        Assert.InRange(lists.Average(l => l.Explored), 0.27, 0.33);
        Assert.All(lists.Where(l => l.Explored == 0), l => Assert.Equal([0, 1, 2], l.Chosen));
    }

    /// <summary>
    /// The bounded and doubly robust estimates: where a target's leads have too little logged chance, the interval spans every
    /// value rewards in [0, 1] allow there, so it holds the truth where IPS, weighing rare calls enormously, misses it.
    /// </summary>
    [Fact]
    public void BoundedIntervalsWidenWhereSupportIsThinAndHoldTheTruth()
    {
        // Ten candidates a day; the logging policy calls lead 0 always and one of the others with chance 1/900 each (the rest
        // of the day's calls fall on leads outside the set); the target calls lead 9, which always converts.
        var rng = new Random(3);
        var lists = new List<LoggedList>();
        for (int day = 0; day < 60; day++)
        {
            double[] logged = [1, .. Enumerable.Repeat(1 / 900.0, 9)];
            double[] target = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
            var chosen = new List<int> { 0 };
            for (int j = 1; j < 10; j++)
                if (rng.NextDouble() < logged[j]) chosen.Add(j);
            lists.Add(LoggedList.Of(logged, target, chosen, i => i == 9 ? 1 : 0, Enumerable.Repeat(0.1, 10).ToList()));
        }
        var ips = OffPolicy.Ips(lists);
        var bounded = OffPolicy.Bounded(lists);
        Assert.True(ips.High < 1, $"IPS {ips} should miss the true value 1 here (no call of lead 9 in 60 days)");
        Assert.True(bounded.Low <= 1 && bounded.High >= 1, $"bounded {bounded} should hold the true value 1");
        Assert.Equal(0.1, bounded.Value, 12);                      // the reward model's value where the logs say nothing
        // Doubly robust switches the same way: without the switch it would read the reward model's 0.1 with no width at all.
        var doublyRobust = OffPolicy.DoublyRobust(lists);
        Assert.True(doublyRobust.Low <= 1 && doublyRobust.High >= 1, $"doubly robust {doublyRobust} should hold the true value 1");
        Assert.Equal(0.1, doublyRobust.Value, 12);
        Assert.Equal(1, OffPolicy.UnsupportedShare(lists), 12);
        // Where every lead has its chance, the bounded estimate is IPS.
        var supported = Enumerable.Range(0, 40).Select(d => LoggedList.Of([0.5, 0.5], [1, 0], d % 2 == 0 ? [0] : [1], i => i == 0 ? 1 : 0, [0.5, 0.5])).ToList();
        Assert.Equal(OffPolicy.Ips(supported), OffPolicy.Bounded(supported));
        // ... and doubly robust is the plain one: direct value plus weighted residuals, 0.5 + 2·(1 − 0.5) or 0.5 + 0 on alternate days.
        Assert.Equal(1, OffPolicy.DoublyRobust(supported).Value, 12);
        Assert.Equal(0, OffPolicy.UnsupportedShare(supported));
    }

    /// <summary>
    /// The guard: a head that predicts no better than the served probability never reorders the ranking (Thompson lists the
    /// best-served leads); one that predicts clearly better earns its way after enough judged outcomes.
    /// </summary>
    [Fact]
    public void AHeadReordersTheServedRankingOnlyOnceItHasShownAGain()
    {
        var rng = new Random(9);
        var noBetter = new BaselineGuard();
        var better = new BaselineGuard();
        for (int n = 0; n < 400; n++)
        {
            double p = rng.NextDouble(), reward = rng.NextDouble() < p ? 1 : 0;
            noBetter.Judge(Math.Clamp(p + 0.2 * (rng.NextDouble() - 0.5), 0, 1), p, reward);   // the probability with noise
            double truth = rng.NextDouble(), blurred = 0.5 + 0.1 * (truth - 0.5), outcome = rng.NextDouble() < truth ? 1 : 0;
            better.Judge(truth, blurred, outcome);                                             // knows what the served model does not
        }
        Assert.False(noBetter.Earned, noBetter.ToString());
        Assert.True(better.Earned, better.ToString());
        double[] served = [0.1, 0.9, 0.5];
        var list = new ThompsonPolicy().Choose(noBetter.Candidates(served, () => throw new InvalidOperationException("not earned")), 2, rng);
        Assert.Equal([1, 2], list.Chosen);
        Assert.Equal([0, 1, 1], list.Inclusion);
        Assert.False(new BaselineGuard().Earned);
    }

    private static double[] Rounded(IEnumerable<double> values) => values.Select(v => Math.Round(v, 12)).ToArray();

    private static void CheckPropensities(CallListPolicy policy, int K = 3)
    {
        string name = policy.Name;
        const int Lists = 4000;
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
        Assert.Throws<ArgumentException>(() => CallListPolicy.Parse("thompson:1"));
        Assert.Contains("epsilon-greedy:1.5", Assert.Throws<ArgumentException>(() => CallListPolicy.Parse("epsilon-greedy:1.5")).Message);
        // Served Thompson sampling explores a share of its calls (one in 40 unless said), so its logs weigh other rankings.
        Assert.Equal("thompson+exploration-slots(0.025)", CallListPolicy.Parse("thompson").Name);
        Assert.Equal("thompson+exploration-slots(0.1)", CallListPolicy.Parse("thompson:0.1").Name);
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
