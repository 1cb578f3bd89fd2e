namespace LeadEngine.Feedback;

/// <summary>Everything the store knows about one lead.</summary>
/// <param name="LeadId">The lead.</param>
/// <param name="Fields">Its columns as last scored (<see cref="StoredLead"/>).</param>
/// <param name="FirstSeen">When it was first scored.</param>
/// <param name="LastScored">When it was last scored.</param>
/// <param name="LastScore">Its latest score.</param>
/// <param name="Events">Its outcome events by time.</param>
/// <param name="Recommendations">How often it was put on a call list.</param>
/// <param name="Windows">The windows it was listed to be called in, by time.</param>
public sealed record LeadRecord(string LeadId, string Fields, DateTimeOffset FirstSeen, DateTimeOffset LastScored, ServedScore LastScore,
    IReadOnlyList<OutcomeEvent> Events, int Recommendations, IReadOnlyList<CallWindow> Windows);
