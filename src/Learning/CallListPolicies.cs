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

/// <summary>
/// A call list: the chosen candidates in rank order, and every candidate's propensity, the
/// probability that the policy puts it on a list of this length (they sum to the list length).
/// </summary>
/// <param name="Chosen">Indices into the candidate set, best first.</param>
/// <param name="Inclusion">Per candidate, P(on the list) under the policy.</param>
/// <param name="Explored">How many of the last chosen are exploration slots (<see cref="ExplorationSlotsPolicy"/>), not the policy's own choice.</param>
public sealed record CallList(IReadOnlyList<int> Chosen, double[] Inclusion, int Explored = 0);

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

/// <summary>The K highest expected rewards; propensity 1 for them, 0 for the rest.</summary>
public sealed class GreedyPolicy : CallListPolicy
{
    /// <inheritdoc />
    public override string Name => "greedy";

    /// <summary>The greedy list of <paramref name="scores"/> (no randomness involved).</summary>
    public static CallList Of(IReadOnlyList<double> scores, int k) => new GreedyPolicy().Choose(new CandidateSet(scores), k, System.Random.Shared);

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        var chosen = TopK(candidates.Means, k);
        var inclusion = new double[candidates.Count];
        foreach (int i in chosen) inclusion[i] = 1;
        return new CallList(chosen, inclusion);
    }
}

/// <summary>
/// With probability ε the whole list is a uniform random K of the candidates (in random order), else the
/// inner policy's list: inclusion ε·K/N + (1 − ε)·(the inner policy's inclusion). Every candidate keeps a
/// propensity of at least ε·K/N, so off-policy estimates of any other policy stay inside the logging
/// support (a near-greedy Thompson posterior alone would give most leads none).
/// </summary>
public class UniformMixturePolicy(CallListPolicy inner, double epsilon) : CallListPolicy
{
    /// <summary>Share of lists chosen at random.</summary>
    public double Epsilon { get; } = epsilon is > 0 and <= 1 ? epsilon : throw new ArgumentOutOfRangeException(nameof(epsilon), "epsilon must be in (0, 1]");

    /// <inheritdoc />
    public override string Name => $"{inner.Name}+uniform({Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <inheritdoc />
    public override bool NeedsPosterior => inner.NeedsPosterior;

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        int n = candidates.Count;
        k = Math.Min(k, n);
        var own = inner.Choose(candidates, k, rng);
        IReadOnlyList<int> chosen = own.Chosen;
        if (rng.NextDouble() < Epsilon)
        {
            var all = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(all);
            chosen = all[..k];
        }
        var inclusion = new double[n];
        for (int i = 0; i < n; i++) inclusion[i] = Epsilon * k / n + (1 - Epsilon) * own.Inclusion[i];
        return new CallList(chosen, inclusion);
    }
}

/// <summary>
/// A policy that gives a share of its calls to exploration among the leads it did not choose: a list of k calls has
/// share·k exploration slots on average, rounded at random (⌊share·k⌋ or one more, with the fraction's chance), so a
/// short list explores on some days only and the share holds whatever the list's length (a slot on every list of 10
/// gave X Education's replay 10% exploration where 2.5% was asked). The slots are the last of the list
/// (<see cref="CallList.Explored"/>); the rest is the inner policy's choice. The unchosen leads, in the order of their
/// expected reward, are dealt into m strata in turn (rank r to stratum r mod m, so each spans the whole ranking), and
/// each slot draws one lead of its stratum with probability proportional to its expected reward (uniformly when they
/// are all 0): exploration goes where a call may convert, and every lead with a chance of converting keeps a chance of
/// a call.
/// Measured on the replays (seeds 1–9 and 1–6), against slots drawn uniformly: the synthetic funnel's continuous
/// policy 109.7 conversions against 108.2 (static 111), the bank file's 545.8 against 545.0 (periodic 556).
/// Inclusion, given the inner policy's draw (what IPS needs, since the target does not depend on that draw): over
/// both slot counts, weighted by their chances, 1 for the inner policy's leads and the slot's draw probability for
/// the others.
/// </summary>
public sealed class ExplorationSlotsPolicy(CallListPolicy inner, double share) : CallListPolicy
{
    /// <summary>The share of the calls that explores unless said: one call in 40.</summary>
    public const double DefaultShare = 0.025;

    /// <summary>Thompson sampling with <paramref name="share"/> of the calls exploring: <c>serve --policy thompson</c> and the replay's continuous policy.</summary>
    public static ExplorationSlotsPolicy Thompson(double share = DefaultShare) => new(new ThompsonPolicy(), share);

    /// <summary>The share of the calls that explores.</summary>
    public double Share { get; } = share is > 0 and < 1 ? share : throw new ArgumentOutOfRangeException(nameof(share), "the share must be in (0, 1)");

    /// <inheritdoc />
    public override string Name => $"{inner.Name}+exploration-slots({Share.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <inheritdoc />
    public override bool NeedsPosterior => inner.NeedsPosterior;

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        int n = candidates.Count;
        k = Math.Min(k, n);
        int fewer = (int)Math.Floor(Share * k);
        double moreChance = Share * k - fewer;
        // The inner policy ranks k − fewer leads once; the list with one slot more drops its last.
        var own = inner.Choose(candidates, k - fewer, rng).Chosen;
        bool more = rng.NextDouble() < moreChance;
        var inclusion = new double[n];
        var slots = SlotDraws(candidates, own, fewer, 1 - moreChance, inclusion, more ? null : rng);
        if (moreChance > 0)
        {
            var drawn = SlotDraws(candidates, own.Take(own.Count - 1).ToArray(), fewer + 1, moreChance, inclusion, more ? rng : null);
            if (more) slots = drawn;
        }
        int m = slots.Count;
        return new CallList([.. own.Take(k - m), .. slots], inclusion, m);
    }

    /// <summary>
    /// Adds to <paramref name="inclusion"/>, weighted by <paramref name="chance"/>, the inclusion of the list of <paramref name="own"/>
    /// leads and <paramref name="m"/> slots, and draws its slots when given a generator.
    /// </summary>
    private static List<int> SlotDraws(CandidateSet candidates, IReadOnlyList<int> own, int m, double chance, double[] inclusion, Random? rng)
    {
        var listed = new bool[candidates.Count];
        foreach (int i in own) { listed[i] = true; inclusion[i] += chance; }
        var rest = Enumerable.Range(0, candidates.Count).Where(i => !listed[i]).OrderByDescending(i => candidates.Means[i]).ThenBy(i => i).ToArray();
        var slots = new List<int>(m);
        for (int stratum = 0; stratum < Math.Min(m, rest.Length); stratum++)
        {
            var members = rest.Where((_, rank) => rank % m == stratum).ToArray();
            var weights = members.Select(i => Math.Max(0, candidates.Means[i])).ToArray();
            double total = weights.Sum();
            var draw = weights.Select(w => total > 0 ? w / total : 1.0 / members.Length).ToArray();
            for (int j = 0; j < members.Length; j++) inclusion[members[j]] += chance * draw[j];
            if (rng is null) continue;
            double u = rng.NextDouble();
            int pick = members.Length - 1;
            for (int j = 0; j < members.Length; j++)
                if ((u -= draw[j]) < 0) { pick = j; break; }
            slots.Add(members[pick]);
        }
        return slots;
    }
}

/// <summary>Epsilon-greedy: the greedy top K, or with probability ε a uniform random K; inclusion (1 − ε)·[in top K] + ε·K/N, exactly.</summary>
public sealed class EpsilonGreedyPolicy(double epsilon) : UniformMixturePolicy(new GreedyPolicy(), epsilon)
{
    /// <inheritdoc />
    public override string Name => $"epsilon-greedy({Epsilon.ToString(System.Globalization.CultureInfo.InvariantCulture)})";
}

/// <summary>
/// Plackett–Luce sampling without replacement, each next lead drawn with probability ∝
/// exp(mean/τ) among those left: near greedy for small τ, uniform for large.
/// </summary>
public sealed class SoftmaxPolicy(double temperature) : CallListPolicy
{
    /// <summary>τ, in reward units.</summary>
    public double Temperature { get; } = temperature > 0 ? temperature : throw new ArgumentOutOfRangeException(nameof(temperature));

    /// <inheritdoc />
    public override string Name => $"softmax({Temperature.ToString(System.Globalization.CultureInfo.InvariantCulture)})";

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        double max = candidates.Means.DefaultIfEmpty(0).Max();
        var weights = candidates.Means.Select(m => Math.Exp((m - max) / Temperature)).ToArray();
        IReadOnlyList<int> Draw(Random r) => Sample(weights, Math.Min(k, weights.Length), r);
        var chosen = Draw(rng);
        return new CallList(chosen, EstimateInclusion(weights.Length, chosen, Draw, rng));
    }

    /// <summary>K indices without replacement, each with probability ∝ its weight among those left (Efraimidis–Spirakis keys).</summary>
    private static int[] Sample(double[] weights, int k, Random rng)
    {
        var keys = new double[weights.Length];
        for (int i = 0; i < weights.Length; i++) keys[i] = Math.Log(1 - rng.NextDouble()) / weights[i];
        return TopK(keys, k);
    }
}

/// <summary>
/// Thompson sampling: draw every lead's reward from the model's posterior once, call the K best of
/// that draw. Leads the model is unsure about get called sometimes, in proportion to the chance
/// that they are among the best.
/// </summary>
public sealed class ThompsonPolicy : CallListPolicy
{
    /// <inheritdoc />
    public override string Name => "thompson";

    /// <inheritdoc />
    public override bool NeedsPosterior => true;

    /// <inheritdoc />
    public override CallList Choose(CandidateSet candidates, int k, Random rng)
    {
        var sample = candidates.SampleScores ?? throw new InvalidOperationException("Thompson sampling needs a model with a posterior (CandidateSet.SampleScores)");
        IReadOnlyList<int> Draw(Random r) => TopK(sample(r), Math.Min(k, candidates.Count));
        var chosen = Draw(rng);
        return new CallList(chosen, EstimateInclusion(candidates.Count, chosen, Draw, rng));
    }
}
