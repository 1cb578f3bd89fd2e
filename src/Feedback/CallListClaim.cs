using LeadEngine.LeadScoring;

namespace LeadEngine.Feedback;

/// <summary>What a call-list claim records in its transaction.</summary>
/// <param name="Chosen">The leads handed out, in rank order.</param>
/// <param name="Candidates">Every lead of the pool with its propensity (what off-policy evaluation weighs).</param>
/// <param name="Rescored">Pool leads scored again by the serving model (their last score was another version's).</param>
public sealed record CallListClaim(IReadOnlyList<Recommendation> Chosen, IReadOnlyList<ListCandidate> Candidates,
    IReadOnlyList<(Lead Lead, ServedScore Score)> Rescored);
