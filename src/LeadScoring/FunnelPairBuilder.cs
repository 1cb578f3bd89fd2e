using LeadEngine.Training;
namespace LeadEngine.LeadScoring;

/// <summary>
/// Builds HPRO preference pairs from funnel stages in three tiers, each pair in the highest tier
/// that separates its leads: 0 global dominance (converted vs lost), 1 key action (reached the
/// key-action stage vs did not), 2 soft signal (long vs short call among leads the higher tiers
/// do not separate). Leads the tiers cannot separate form no pair.
/// </summary>
public sealed class FunnelPairBuilder(FunnelConfig funnel)
{
    private readonly Dictionary<string, int> _rank = funnel.Stages.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i);
    private readonly HashSet<string> _lost = [.. funnel.LostStages];

    /// <summary>The funnel.</summary>
    public FunnelConfig Funnel { get; } = funnel;

    private readonly record struct Features(bool Converted, bool Lost, bool KeyAction, bool? LongCall);

    private Features Describe(Lead lead)
    {
        string stage = lead.Stage ?? throw new InvalidDataException($"lead '{lead.Id}': no stage, so no preference pairs (an outcome is needed to train)");
        bool converted = lead.Converted == 1;
        bool lost = _lost.Contains(stage);
        if (!lost && !_rank.ContainsKey(stage))
            throw new InvalidDataException($"lead '{lead.Id}': unknown stage '{stage}' (funnel '{Funnel.Name}' has {string.Join(", ", Funnel.Stages.Concat(Funnel.LostStages))})");
        bool keyAction = converted || (!lost && _rank[stage] >= _rank[Funnel.KeyActionStage]);
        bool? longCall = lead.CallSeconds is double s ? s >= Funnel.LongCallSeconds : null;
        return new Features(converted, lost && !converted, keyAction, longCall);
    }

    /// <summary>The tier of (a over b), or null when a is not preferred to b at any tier.</summary>
    private static int? Prefer(Features a, Features b)
    {
        if (a.Converted && b.Lost) return 0;
        if (a.Converted && b.Converted || a.Lost && b.Lost || b.Converted && a.Lost) return null;
        if (a.KeyAction != b.KeyAction) return a.KeyAction ? 1 : null;
        if (a.LongCall is bool la && b.LongCall is bool lb && la && !lb) return 2;
        return null;
    }

    /// <summary>All pairs within <paramref name="leads"/> (indices into the list).</summary>
    public List<PreferencePair> BuildWithinBatch(IReadOnlyList<Lead> leads)
    {
        var features = leads.Select(Describe).ToArray();
        var pairs = new List<PreferencePair>();
        for (int i = 0; i < leads.Count; i++)
            for (int j = 0; j < leads.Count; j++)
                if (i != j && Prefer(features[i], features[j]) is int tier) pairs.Add(new PreferencePair(i, j, tier));
        return pairs;
    }

    /// <summary>
    /// Samples up to <paramref name="count"/> distinct pairs across a whole training set (indices into
    /// <paramref name="leads"/>), by rejection from random ordered pairs; deterministic for a seed.
    /// </summary>
    public List<PreferencePair> SampleAcrossSet(IReadOnlyList<Lead> leads, int count, int seed)
    {
        var features = leads.Select(Describe).ToArray();
        var rng = new Random(seed);
        var seen = new HashSet<(int, int)>();
        var pairs = new List<PreferencePair>();
        for (long attempt = 0; pairs.Count < count && attempt < 50L * count + 1000; attempt++)
        {
            int i = rng.Next(leads.Count), j = rng.Next(leads.Count);
            if (i == j || !seen.Add((i, j))) continue;
            if (Prefer(features[i], features[j]) is int tier) pairs.Add(new PreferencePair(i, j, tier));
        }
        return pairs;
    }
}
