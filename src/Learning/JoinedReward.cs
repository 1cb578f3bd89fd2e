using LeadEngine.Feedback;

namespace LeadEngine.Learning;

/// <summary>A recommendation with the outcome it earned.</summary>
/// <param name="Recommendation">What the policy chose, with its propensity.</param>
/// <param name="Outcome">The best outcome attributed to it; null when none came.</param>
/// <param name="Reward">Its reward (0 when the window closed without an outcome).</param>
/// <param name="CallSeconds">The longest call among the attributed events.</param>
public sealed record JoinedReward(Recommendation Recommendation, OutcomeKind? Outcome, double Reward, double? CallSeconds);
