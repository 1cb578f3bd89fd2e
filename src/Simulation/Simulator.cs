using LeadEngine.Engine;
using LeadEngine.Evaluation;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;

namespace LeadEngine.Simulation;

/// <summary>
/// Runs a call centre (<see cref="CallCentreWorld"/>) for each seed and compares the policies on
/// the same leads and, through common random numbers, the same outcome of calling a given lead on
/// a given day:
/// <list type="bullet">
/// <item><c>random</c>: K open leads at random;</item>
/// <item><c>funnel_recency</c>: by the stage reached, then the newest;</item>
/// <item><c>static</c>: LeadEngine (LoRA + heads, BCE + HPRO + LM) trained once on the history, greedy;</item>
/// <item><c>periodic</c>: the same, retrained from scratch every <see cref="SimulationOptions.RetrainEvery"/> days on the history and the outcomes it has received;</item>
/// <item><c>continuous</c>: Thompson sampling over a Bayesian linear head on the static scorer's features
/// ([1, p, p × days open, 16 whitened principal components of the final hidden state, the lead's structured columns
/// one-hot or standardised: wide and deep]), updated in closed form with each day's outcomes as they arrive;</item>
/// <item><c>oracle</c>: the true best K of each day's open leads (the regret reference).</item>
/// </list>
/// </summary>
public sealed class Simulator(SimulationOptions options, ComputeDevice device, Action<string>? log = null)
{
    private readonly FunnelConfig _funnel = FunnelConfig.Automotive;

    /// <summary>Runs every seed.</summary>
    public IReadOnlyList<SeedResult> Run() =>
        Enumerable.Range(options.FirstSeed, options.Seeds).Select(RunSeed).ToList();

    private sealed class Day
    {
        public required List<SimulatedLead> Open { get; init; }
        public required double[] TrueConversion { get; init; }
    }

    private SeedResult RunSeed(int seed)
    {
        string modelDir = options.ModelDir ?? BuiltInModel.EnsureModel();
        var tokenizer = QwenTokenizer.ForModel(modelDir);
        var world = new CallCentreWorld(options.Days, options.Drift);
        var rng = new Random(seed);
        var history = new List<Lead>();
        for (int day = -options.HistoryDays; day < 0; day++)
            foreach (var lead in world.Arrivals(day, options.LeadsPerDay, rng))
            {
                var (kind, seconds, _) = world.Call(lead, day, Outcomes(seed, lead, day));
                history.Add(Rewards.AsTrainingLead(lead.Lead, kind, seconds, _funnel));
            }
        var arrivals = Enumerable.Range(0, options.Days).Select(d => world.Arrivals(d, options.LeadsPerDay, rng)).ToList();
        var future = arrivals.SelectMany(a => a).ToList();
        string work = Directory.CreateTempSubdirectory("leadengine-sim-").FullName;
        try
        {
            log?.Invoke($"seed {seed}: training the static scorer on {history.Count:N0} history leads");
            var (staticScores, features) = TrainAndScore(modelDir, tokenizer, history, future, Path.Combine(work, "static"), withFeatures: true);
            var randomLogged = new List<(Day Pool, CallList List, int Day)>();
            var policies = new List<PolicyRun>
            {
                Simulate("random", seed, world, arrivals, (day, pool, r) =>
                {
                    var chosen = Random(pool.Open.Count, r);
                    randomLogged.Add((new Day { Open = [.. pool.Open], TrueConversion = pool.TrueConversion },
                        new CallList(chosen.Take(options.CallsPerDay).ToList(), CallListPolicy.UniformInclusion(pool.Open.Count, options.CallsPerDay)), day));
                    return chosen;
                }),
                Simulate("funnel_recency", seed, world, arrivals, (day, pool, _) =>
                    CallListPolicy.TopK(FunnelRecencyBaseline.Score(pool.Open.Select(l => l.Lead).ToList(), _funnel), options.CallsPerDay)),
                Simulate("static", seed, world, arrivals, (day, pool, _) =>
                    CallListPolicy.TopK(pool.Open.Select(l => staticScores[l.Lead.Id]).ToList(), options.CallsPerDay)),
            };
            log?.Invoke($"seed {seed}: periodic retraining every {options.RetrainEvery} days");
            policies.Add(Periodic(seed, world, arrivals, modelDir, tokenizer, history, staticScores, work));
            var logged = new List<(Day Pool, CallList List, int Day)>();
            policies.Add(Continuous(seed, world, arrivals, features, logged));
            policies.Add(Simulate("oracle", seed, world, arrivals, (day, pool, _) => CallListPolicy.TopK(pool.TrueConversion, options.CallsPerDay)));
            var ab = AbTest(seed, world, arrivals, staticScores, features);
            var checks = OffPolicyChecks(seed, world, logged, staticScores, features, "continuous");
            var fromRandom = OffPolicyChecks(seed, world, randomLogged, staticScores, features, logging: null);
            log?.Invoke($"seed {seed}: " + string.Join(", ", policies.Select(p => $"{p.Name} {p.Conversions}")));
            return new SeedResult(seed, policies, ab, checks, fromRandom);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    /// <summary>The random numbers that decide what calling <paramref name="lead"/> on <paramref name="day"/> gives: the same for every policy.</summary>
    private static Random Outcomes(int seed, SimulatedLead lead, int day) => new(StableSeed(seed, lead.Lead.Id, day));

    /// <summary>A seed from the run's seed, a name and a number that is the same in every process (FNV-1a; HashCode is randomised per process).</summary>
    private static int StableSeed(int seed, string name, int number)
    {
        ulong h = 14695981039346656037;
        foreach (int part in name.Select(ch => (int)ch).Prepend(seed).Append(number))
        {
            h ^= (uint)part;
            h *= 1099511628211;
        }
        return (int)(h ^ (h >> 32)) & int.MaxValue;
    }

    private static int[] Random(int count, Random rng)
    {
        var all = Enumerable.Range(0, count).ToArray();
        rng.Shuffle(all);
        return all;
    }

    /// <summary>Principal components of the hidden state the continuous policy's head sees.</summary>
    public const int HiddenComponents = 16;

    /// <summary>Whitened components are clipped to ±this: a few outlying leads would otherwise take every exploratory draw.</summary>
    public const double ComponentClip = 3;

    /// <summary>
    /// Trains LoRA + heads on <paramref name="train"/> and scores <paramref name="leads"/>: their
    /// probabilities and, if asked, their features [p, whitened principal components of the final
    /// hidden state, the encoded structured columns] with components and encoding fitted on the
    /// training leads.
    /// </summary>
    private (Dictionary<string, double> Scores, Dictionary<string, double[]> Features) TrainAndScore(string modelDir, QwenTokenizer tokenizer,
        IReadOnlyList<Lead> train, IReadOnlyList<SimulatedLead> leads, string adapterDir, bool withFeatures)
    {
        using (var model = QwenModel.Load(modelDir, device))
            LeadPipeline.Train(model, tokenizer, train, _funnel, BuiltInModel.TrainingOptions() with { StructuredFeatures = false }, adapterDir);
        using var scorer = LeadScorer.Load(modelDir, adapterDir, tokenizer, device: device);
        var scored = scorer.ScoreWithHidden(leads.Select(l => l.Lead).ToList());
        var scores = scored.ToDictionary(s => s.Score.LeadId, s => s.Score.Probability, StringComparer.Ordinal);
        var features = new Dictionary<string, double[]>(StringComparer.Ordinal);
        if (withFeatures)
        {
            var pca = Pca.Fit(scorer.ScoreWithHidden(train).Select(s => s.Hidden).ToList(), HiddenComponents);
            var columns = LeadFeatureEncoder.Fit(train);
            for (int i = 0; i < leads.Count; i++)
            {
                var (score, hidden) = scored[i];
                features[score.LeadId] = [score.Probability, .. pca.Transform(hidden).Select(c => Math.Clamp(c, -ComponentClip, ComponentClip)),
                    .. columns.Encode(leads[i].Lead)];
            }
        }
        return (scores, features);
    }

    /// <summary>
    /// What the continuous policy's head reads for a lead on a day: [1, p, p × days open / <see cref="CallCentreWorld.OpenDays"/>,
    /// the hidden state's whitened components, the structured columns] (<paramref name="lead"/> holds all but the first and
    /// third). The static scorer ignores how long a lead has waited, and a lead's value decays multiplicatively.
    /// </summary>
    public static double[] DecisionFeatures(double[] lead, int daysOpen) =>
        [1, lead[0], lead[0] * daysOpen / (double)CallCentreWorld.OpenDays, .. lead.AsSpan(1)];

    /// <summary>
    /// One policy's trajectory: each morning the outcomes reported so far reach <paramref name="learn"/>,
    /// the day's arrivals join the open leads, leads older than <see cref="CallCentreWorld.OpenDays"/> go
    /// cold, and <paramref name="choose"/> picks the calls (indices into the open leads, best first).
    /// </summary>
    private PolicyRun Simulate(string name, int seed, CallCentreWorld world, List<List<SimulatedLead>> arrivals,
        Func<int, Day, Random, IReadOnlyList<int>> choose, Action<int, IReadOnlyList<(SimulatedLead Lead, OutcomeKind Kind, double Seconds, int CalledOn)>>? learn = null)
    {
        var rng = new Random(StableSeed(seed, name, 0));
        var open = new List<SimulatedLead>();
        var reports = new List<(int Day, SimulatedLead Lead, OutcomeKind Kind, double Seconds, int CalledOn)>();
        int conversions = 0;
        double expected = 0, regret = 0;
        var cumulative = new double[options.Days];
        for (int day = 0; day < options.Days; day++)
        {
            var arrived = reports.Where(r => r.Day <= day).Select(r => (r.Lead, r.Kind, r.Seconds, r.CalledOn)).ToList();
            reports.RemoveAll(r => r.Day <= day);
            if (arrived.Count > 0) learn?.Invoke(day, arrived);
            open.AddRange(arrivals[day]);
            open.RemoveAll(l => day - l.Day >= CallCentreWorld.OpenDays);
            var pool = new Day { Open = open, TrueConversion = open.Select(l => world.ConversionProbability(l, day)).ToArray() };
            var chosen = choose(day, pool, rng).Take(options.CallsPerDay).ToList();
            regret += CallListPolicy.TopK(pool.TrueConversion, options.CallsPerDay).Sum(i => pool.TrueConversion[i]) - chosen.Sum(i => pool.TrueConversion[i]);
            foreach (int i in chosen)
            {
                var lead = open[i];
                expected += pool.TrueConversion[i];
                var (kind, seconds, reportedOn) = world.Call(lead, day, Outcomes(seed, lead, day));
                if (kind == OutcomeKind.Converted) conversions++;
                reports.Add((reportedOn, lead, kind, seconds, day));
            }
            foreach (int i in chosen.OrderDescending()) open.RemoveAt(i);
            cumulative[day] = expected;
        }
        return new PolicyRun(name, conversions, expected, regret, cumulative);
    }

    private PolicyRun Periodic(int seed, CallCentreWorld world, List<List<SimulatedLead>> arrivals, string modelDir, QwenTokenizer tokenizer,
        List<Lead> history, Dictionary<string, double> staticScores, string work)
    {
        var scores = staticScores;
        var received = new List<Lead>();
        var future = arrivals.SelectMany(a => a).ToList();
        return Simulate("periodic", seed, world, arrivals, (day, pool, rng) =>
        {
            if (day > 0 && day % options.RetrainEvery == 0)
            {
                var rescore = future.Where(l => l.Day > day - CallCentreWorld.OpenDays).ToList();
                (scores, _) = TrainAndScore(modelDir, tokenizer, [.. history, .. received], rescore, Path.Combine(work, $"periodic-{day}"), withFeatures: false);
            }
            return CallListPolicy.TopK(pool.Open.Select(l => scores[l.Lead.Id]).ToList(), options.CallsPerDay);
        }, (_, outcomes) => received.AddRange(outcomes.Select(o => Rewards.AsTrainingLead(o.Lead.Lead, o.Kind, o.Seconds, _funnel))));
    }

    private PolicyRun Continuous(int seed, CallCentreWorld world, List<List<SimulatedLead>> arrivals, Dictionary<string, double[]> features,
        List<(Day Pool, CallList List, int Day)> logged)
    {
        var bayes = BayesianLinearHead.StartingFromProbability(features.Values.First().Length + 2);
        CallListPolicy policy = options.UniformShare > 0 ? new UniformMixturePolicy(new ThompsonPolicy(), options.UniformShare) : new ThompsonPolicy();
        return Simulate("continuous", seed, world, arrivals, (day, pool, rng) =>
        {
            var x = pool.Open.Select(l => DecisionFeatures(features[l.Lead.Id], day - l.Day)).ToList();
            var candidates = new CandidateSet(x.Select(v => bayes.Predict(v)).ToList(), r =>
            {
                var w = bayes.SampleWeights(r, options.Exploration);
                return x.Select(v => BayesianLinearHead.Dot(w, v)).ToArray();
            });
            var list = policy.Choose(candidates, options.CallsPerDay, rng);
            logged.Add((new Day { Open = [.. pool.Open], TrueConversion = pool.TrueConversion }, list, day));
            return list.Chosen;
        }, (_, outcomes) =>
        {
            foreach (var (lead, kind, _, calledOn) in outcomes)
                bayes.Update(DecisionFeatures(features[lead.Lead.Id], calledOn - lead.Day), Rewards.Of(kind));
        });
    }

    /// <summary>Half the leads (by a hash of their id) and half the calls to each arm: static vs continuous.</summary>
    private AbTest AbTest(int seed, CallCentreWorld world, List<List<SimulatedLead>> arrivals, Dictionary<string, double> staticScores,
        Dictionary<string, double[]> features)
    {
        bool InTreatment(SimulatedLead l) => (StableSeed(seed, l.Lead.Id, -1) & 1) == 1;
        var half = options with { CallsPerDay = options.CallsPerDay / 2 };
        var arm = new Simulator(half, device, log);
        var control = arm.Simulate("static", seed, world, arrivals.Select(a => a.Where(l => !InTreatment(l)).ToList()).ToList(), (day, pool, _) =>
            CallListPolicy.TopK(pool.Open.Select(l => staticScores[l.Lead.Id]).ToList(), half.CallsPerDay));
        var treatment = arm.Continuous(seed, world, arrivals.Select(a => a.Where(InTreatment).ToList()).ToList(), features, []);
        return new AbTest("static", "continuous", control.Conversions, treatment.Conversions, half.CallsPerDay * options.Days);
    }

    /// <summary>
    /// Off-policy estimates of the policies' conversions per day from one policy's logged lists (reward:
    /// converted or not), beside their true value on the same open leads: static, random and funnel+recency,
    /// and the logging policy itself when <paramref name="logging"/> names it (on-policy, its own propensities).
    /// </summary>
    private List<OffPolicyCheck> OffPolicyChecks(int seed, CallCentreWorld world, List<(Day Pool, CallList List, int Day)> logged,
        Dictionary<string, double> staticScores, Dictionary<string, double[]> features, string? logging)
    {
        // Doubly robust's reward model: conversion regressed on the decision features over every logged call.
        bool Converted(SimulatedLead lead, int day) => world.Call(lead, day, Outcomes(seed, lead, day)).Kind == OutcomeKind.Converted;
        var model = BayesianLinearHead.StartingFromProbability(features.Values.First().Length + 2);
        foreach (var (pool, list, day) in logged)
            foreach (int i in list.Chosen)
                model.Update(DecisionFeatures(features[pool.Open[i].Lead.Id], day - pool.Open[i].Day), Converted(pool.Open[i], day) ? 1 : 0);
        // Per logged day, once for every target: the model's prediction for each open lead, and whether each called lead converted.
        var days = logged.Select(d => (d.Pool, d.List, d.Day,
            Predicted: d.Pool.Open.Select(l => Math.Clamp(model.Predict(DecisionFeatures(features[l.Lead.Id], d.Day - l.Day)), 0, 1)).ToArray(),
            Converted: d.List.Chosen.ToDictionary(i => i, i => Converted(d.Pool.Open[i], d.Day) ? 1.0 : 0.0))).ToList();
        double[] Greedy(IReadOnlyList<double> scores) => GreedyPolicy.Of(scores, options.CallsPerDay).Inclusion;
        var targets = new List<(string Name, Func<Day, CallList, double[]> Inclusion)>
        {
            ("static", (pool, _) => Greedy(pool.Open.Select(l => staticScores[l.Lead.Id]).ToList())),
            ("random", (pool, _) => CallListPolicy.UniformInclusion(pool.Open.Count, options.CallsPerDay)),
            ("funnel_recency", (pool, _) => Greedy(FunnelRecencyBaseline.Score(pool.Open.Select(l => l.Lead).ToList(), _funnel))),
        };
        if (logging is not null) targets.Add((logging, (_, list) => list.Inclusion));
        return targets.Select(t => OffPolicyCheck.Of(t.Name, days, d => d.List, d => t.Inclusion(d.Pool, d.List), d => d.Pool.TrueConversion,
            d => d.Predicted, (d, i) => d.Converted[i])).ToList();
    }
}
