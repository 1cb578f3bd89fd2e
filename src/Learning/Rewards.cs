using LeadEngine.LeadScoring;
using LeadEngine.Feedback;

namespace LeadEngine.Learning;

/// <summary>
/// Outcomes as rewards and as HPRO tiers: converted &gt; responded &gt; contacted &gt; ignored and
/// lost. The reward is what a policy is judged by; the tier is how an outcome enters training (as
/// the funnel stage the lead reached, so the funnel's preference pairs order it).
/// </summary>
public static class Rewards
{
    /// <summary>The reward of an outcome: converted 1, responded 0.3, contacted 0.1, ignored and lost 0.</summary>
    public static double Of(OutcomeKind kind) => kind switch
    {
        OutcomeKind.Converted => 1.0,
        OutcomeKind.Responded => 0.3,
        OutcomeKind.Contacted => 0.1,
        _ => 0.0,
    };

    /// <summary>Preference tier: converted 3, responded 2, contacted 1, ignored and lost 0.</summary>
    public static int Tier(OutcomeKind kind) => kind switch
    {
        OutcomeKind.Converted => 3,
        OutcomeKind.Responded => 2,
        OutcomeKind.Contacted => 1,
        _ => 0,
    };

    /// <summary>
    /// The lead as a training example for its outcome: converted → the funnel's last stage (label
    /// 1); responded → the key-action stage; contacted → the second stage; ignored → the first
    /// stage; lost → the first lost stage (all label 0). HPRO's tiers then prefer converted over
    /// the rest, responded over contacted and ignored, and long calls over short ones.
    /// </summary>
    public static Lead AsTrainingLead(Lead lead, OutcomeKind kind, double? callSeconds, FunnelConfig funnel) => lead with
    {
        Converted = kind == OutcomeKind.Converted ? 1 : 0,
        Stage = kind switch
        {
            OutcomeKind.Converted => funnel.Stages[^1],
            OutcomeKind.Responded => funnel.KeyActionStage,
            OutcomeKind.Contacted => funnel.Stages[1],
            OutcomeKind.Lost => funnel.LostStages.Length > 0 ? funnel.LostStages[0] : funnel.Stages[0],
            _ => funnel.Stages[0],
        },
        CallSeconds = callSeconds ?? lead.CallSeconds,
    };
}

/// <summary>A recommendation with the outcome it earned.</summary>
/// <param name="Recommendation">What the policy chose, with its propensity.</param>
/// <param name="Outcome">The best outcome attributed to it; null when none came.</param>
/// <param name="Reward">Its reward (0 when the window closed without an outcome).</param>
/// <param name="CallSeconds">The longest call among the attributed events.</param>
public sealed record JoinedReward(Recommendation Recommendation, OutcomeKind? Outcome, double Reward, double? CallSeconds);

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
