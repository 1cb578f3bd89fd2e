namespace LeadEngine.Feedback;

/// <summary>
/// One outcome report. <see cref="EventId"/> is the sender's: sending the same event again is
/// harmless, sending a different event under a used id is refused.
/// </summary>
/// <param name="EventId">The sender's unique id of this report.</param>
/// <param name="LeadId">The lead it is about (must have been scored).</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">When it happened (stored to the microsecond).</param>
/// <param name="CallSeconds">Length of the call, when there was one.</param>
/// <param name="Note">Free text from the rep.</param>
/// <param name="Answered">For a call attempt: whether the lead picked up (the evidence the pick-up model learns, at <paramref name="At"/>).</param>
public sealed record OutcomeEvent(string EventId, string LeadId, OutcomeKind Kind, DateTimeOffset At, double? CallSeconds = null, string? Note = null,
    bool? Answered = null)
{
    /// <summary>
    /// The attempt this event reports: <see cref="Answered"/> when given; otherwise <c>contacted</c> and <c>responded</c> are answered
    /// attempts, <c>ignored</c> an unanswered one, and <c>converted</c>/<c>lost</c> (a closing, perhaps without a call) no attempt (null).
    /// </summary>
    public bool? Attempt => Answered ?? Kind switch
    {
        OutcomeKind.Contacted or OutcomeKind.Responded => true,
        OutcomeKind.Ignored => false,
        _ => null,
    };

    /// <summary>This event with its time in UTC, cut to whole microseconds (what both databases keep).</summary>
    public OutcomeEvent Normalized() => this with { At = StoredTime.Of(At) };
}
