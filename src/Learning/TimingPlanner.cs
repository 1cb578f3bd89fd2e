namespace LeadEngine.Learning;

/// <summary>
/// Puts each of a round's calls in a window under the reps' capacity, learning as it goes: a share of the calls explores
/// (a uniformly random window the lead may take and that has room), the rest are assigned on one Thompson draw of the
/// pick-up model (<see cref="PickupModel.Sample"/>) by the assignment that maximises Σ weight × drawn P(answer)
/// (<see cref="SlotAssignment"/>). Each call's propensity per window, what off-policy evaluation of other timings weighs,
/// is ε / (the windows it may take) plus (1 − ε) times the share of further draws, plus the one made, that assign it
/// there (capacity's coupling of the explorers aside: an estimate).
/// </summary>
public static class TimingPlanner
{
    /// <summary>Further posterior draws behind each propensity.</summary>
    public const int PropensityDraws = 20;

    /// <summary>
    /// The plan for <paramref name="leads"/> (their encoded columns) over windows with <paramref name="capacity"/>;
    /// <paramref name="slots"/>[i][j] is the week slot window j falls in for lead i (its local time), −1 where lead i may not
    /// take window j (a retry's slot); <paramref name="weights"/>[i] scales lead i's value (1: contacts, its probability:
    /// expected conversions).
    /// </summary>
    public static TimingPlan Plan(PickupModel model, IReadOnlyList<IReadOnlyList<double>> leads, IReadOnlyList<int[]> slots, IReadOnlyList<double> weights,
        IReadOnlyList<int> capacity, double exploration, Random rng)
    {
        if (exploration is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(exploration), "exploration must be in [0, 1)");
        int n = leads.Count, windows = capacity.Count;
        var predicted = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, windows).Select(j => slots[i][j] < 0 ? double.NaN : model.Probability(leads[i], slots[i][j])).ToArray()).ToArray();
        // Explorers first, each to a random window it may take that still has room; the rest share what is left.
        var left = capacity.ToArray();
        var chosen = Enumerable.Repeat(-1, n).ToArray();
        var explores = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < exploration).ToArray();
        for (int i = 0; i < n; i++)
        {
            if (!explores[i]) continue;
            var open = Enumerable.Range(0, windows).Where(j => slots[i][j] >= 0 && left[j] > 0).ToArray();
            if (open.Length == 0) continue;
            chosen[i] = open[rng.Next(open.Length)];
            left[chosen[i]]--;
        }
        var exploiting = Enumerable.Range(0, n).Where(i => !explores[i]).ToArray();
        int[] Draw(IReadOnlyList<int> among, IReadOnlyList<int> room)
        {
            var sample = model.Sample(rng);
            var value = among.Select(i => Enumerable.Range(0, windows).Select(j => slots[i][j] < 0 ? double.NaN : weights[i] * sample(leads[i], slots[i][j])).ToArray()).ToList();
            return SlotAssignment.Assign(value, room);
        }
        var drawn = Draw(exploiting, left);
        for (int e = 0; e < exploiting.Length; e++) chosen[exploiting[e]] = drawn[e];
        // Propensities: the draw made and further draws of every call's window, all calls exploiting, on the whole capacity.
        var all = Enumerable.Range(0, n).ToArray();
        var hits = Enumerable.Range(0, n).Select(_ => new double[windows]).ToArray();
        for (int e = 0; e < exploiting.Length; e++)
            if (drawn[e] >= 0) hits[exploiting[e]][drawn[e]]++;
        for (int d = 0; d < PropensityDraws; d++)
        {
            var further = Draw(all, capacity);
            for (int i = 0; i < n; i++)
                if (further[i] >= 0) hits[i][further[i]]++;
        }
        var propensities = Enumerable.Range(0, n).Select(i =>
        {
            int allowed = slots[i].Count(s => s >= 0);
            double draws = explores[i] ? PropensityDraws : PropensityDraws + 1;
            return Enumerable.Range(0, windows).Select(j => slots[i][j] < 0 ? 0 : exploration / allowed + (1 - exploration) * hits[i][j] / draws).ToArray();
        }).ToArray();
        return new TimingPlan(chosen, propensities, predicted);
    }
}

/// <summary>A round's windows: each call's window (−1: no room), its propensity per window and the model's P(answer) per window (NaN where it may not go).</summary>
public sealed record TimingPlan(int[] Windows, double[][] Propensities, double[][] Predicted);
