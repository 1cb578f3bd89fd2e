namespace LeadEngine.Feedback;

/// <summary>A lead that may go on a call list: no final outcome and not handed out recently.</summary>
/// <param name="Fields">The lead's columns as last scored (<see cref="StoredLead"/>).</param>
/// <param name="LastScore">Its latest served score.</param>
/// <param name="PoolInclusion">P(the lead is in the <see cref="CallPool"/> read for a list): 1 in the pool's head, the sample's inclusion in its tail.</param>
/// <param name="LastUnansweredAt">When its last unanswered call attempt was made, if any (a retry goes to another slot); read only for a claim that plans windows.</param>
public sealed record CallCandidate(string Fields, ServedScore LastScore, double PoolInclusion = 1, DateTimeOffset? LastUnansweredAt = null);
