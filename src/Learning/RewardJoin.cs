using LeadEngine.Feedback;

namespace LeadEngine.Learning;

/// <summary>
/// Joins delayed outcomes to the recommendations they answer. An event is attributed to the lead's
/// latest recommendation at or before the event, within the attribution window; each
/// recommendation earns its best event (highest tier). A recommendation whose window is still open
/// and that has no outcome yet is pending: it is left out, never counted as a negative. One whose
/// window closed without any outcome counts as ignored (reward 0).
/// </summary>
public static class RewardJoin
{
    /// <summary>The settled recommendations with their rewards, in the order given.</summary>
    public static IReadOnlyList<JoinedReward> Join(IReadOnlyList<Recommendation> recommendations, IReadOnlyList<OutcomeEvent> events,
        DateTimeOffset now, TimeSpan window)
    {
        var byLead = recommendations.Select((r, i) => (r, i)).GroupBy(x => x.r.LeadId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(x => x.r.At).ToList(), StringComparer.Ordinal);
        var best = new (OutcomeKind Kind, double? Call)?[recommendations.Count];
        foreach (var e in events)
        {
            if (!byLead.TryGetValue(e.LeadId, out var listed)) continue;
            int owner = -1;
            foreach (var (r, i) in listed)
                if (r.At <= e.At) owner = i;
            if (owner < 0 || e.At >= recommendations[owner].At + window) continue;
            var current = best[owner];
            double? call = Max(current?.Call, e.CallSeconds);
            best[owner] = current is null || Rewards.Tier(e.Kind) > Rewards.Tier(current.Value.Kind) ? (e.Kind, call) : (current.Value.Kind, call);
        }
        var joined = new List<JoinedReward>();
        for (int i = 0; i < recommendations.Count; i++)
        {
            var r = recommendations[i];
            if (best[i] is { } outcome) joined.Add(new JoinedReward(r, outcome.Kind, Rewards.Of(outcome.Kind), outcome.Call));
            else if (now >= r.At + window) joined.Add(new JoinedReward(r, null, 0.0, null));
        }
        return joined;
    }

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);
}
