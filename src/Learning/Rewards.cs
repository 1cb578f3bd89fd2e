using LeadEngine.Feedback;
using LeadEngine.LeadScoring;

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
