namespace LeadEngine.Feedback;

/// <summary>One lead handed out on a call list, with the probability the policy chose it with.</summary>
/// <param name="ListId">The call list it was on.</param>
/// <param name="LeadId">The lead.</param>
/// <param name="Rank">1-based position on the list.</param>
/// <param name="PolicyVersion">The policy and model version that chose it.</param>
/// <param name="Propensity">Probability that the policy put this lead on the list (1 for a deterministic choice).</param>
/// <param name="Probability">The lead's conversion probability when chosen.</param>
/// <param name="At">When the list was made.</param>
/// <param name="Window">When to call it, where timing is on.</param>
public sealed record Recommendation(string ListId, string LeadId, int Rank, string PolicyVersion, double Propensity, double Probability, DateTimeOffset At,
    CallWindow? Window = null);
