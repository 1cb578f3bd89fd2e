namespace LeadEngine.Feedback;

/// <summary>What happened when a lead was worked, as the CRM reports it.</summary>
public enum OutcomeKind
{
    /// <summary>Reached (a call or message got through); nothing more yet.</summary>
    Contacted,
    /// <summary>Answered or engaged without converting.</summary>
    Responded,
    /// <summary>Bought: the funnel's last stage.</summary>
    Converted,
    /// <summary>Closed without a sale.</summary>
    Lost,
    /// <summary>Did not answer or react.</summary>
    Ignored,
}

/// <summary>Names of <see cref="OutcomeKind"/> on the wire and in the database.</summary>
public static class OutcomeKinds
{
    /// <summary>The wire name: lower case.</summary>
    public static string Name(this OutcomeKind kind) => kind switch
    {
        OutcomeKind.Contacted => "contacted",
        OutcomeKind.Responded => "responded",
        OutcomeKind.Converted => "converted",
        OutcomeKind.Lost => "lost",
        OutcomeKind.Ignored => "ignored",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Every wire name, in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetValues<OutcomeKind>().Select(Name).ToArray();

    /// <summary>Parses a wire name; false for anything else.</summary>
    public static bool TryParse(string? name, out OutcomeKind kind)
    {
        int index = name is null ? -1 : Names.ToList().IndexOf(name);
        kind = index < 0 ? default : (OutcomeKind)index;
        return index >= 0;
    }

    /// <summary>True for outcomes that close a lead: it is not called again.</summary>
    public static bool IsFinal(this OutcomeKind kind) => kind is OutcomeKind.Converted or OutcomeKind.Lost;
}

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
public sealed record OutcomeEvent(string EventId, string LeadId, OutcomeKind Kind, DateTimeOffset At, double? CallSeconds = null, string? Note = null)
{
    /// <summary>This event with its time in UTC, cut to whole microseconds (what both databases keep).</summary>
    public OutcomeEvent Normalized() => this with { At = StoredTime.Of(At) };
}

/// <summary>What storing one event did.</summary>
public enum EventStatus
{
    /// <summary>Committed now.</summary>
    Stored,
    /// <summary>The same event was already stored: nothing written.</summary>
    Duplicate,
}

/// <summary>One lead handed out on a call list, with the probability the policy chose it with.</summary>
/// <param name="ListId">The call list it was on.</param>
/// <param name="LeadId">The lead.</param>
/// <param name="Rank">1-based position on the list.</param>
/// <param name="PolicyVersion">The policy and model version that chose it.</param>
/// <param name="Propensity">Probability that the policy put this lead on the list (1 for a deterministic choice).</param>
/// <param name="Probability">The lead's conversion probability when chosen.</param>
/// <param name="At">When the list was made.</param>
public sealed record Recommendation(string ListId, string LeadId, int Rank, string PolicyVersion, double Propensity, double Probability, DateTimeOffset At);

/// <summary>A lead a call list was chosen from: its probability then and the policy's propensity to list it.</summary>
/// <param name="ListId">The call list.</param>
/// <param name="LeadId">The open lead.</param>
/// <param name="Probability">Its probability under the serving model.</param>
/// <param name="Propensity">P(on the list) under the policy (0 for leads a deterministic policy passed over).</param>
public sealed record ListCandidate(string ListId, string LeadId, double Probability, double Propensity);

/// <summary>A score as served, for the store.</summary>
/// <param name="LeadId">The lead.</param>
/// <param name="ModelVersion">The weights that produced it.</param>
/// <param name="Probability">Conversion probability.</param>
/// <param name="RankingScore">Pairwise head's score.</param>
/// <param name="Score">0–100.</param>
/// <param name="Grade">A–D.</param>
public sealed record ServedScore(string LeadId, string ModelVersion, double Probability, double RankingScore, int Score, char Grade);

/// <summary>A lead that may go on a call list: no final outcome and not handed out recently.</summary>
/// <param name="Fields">The lead's columns as last scored (<see cref="StoredLead"/>).</param>
/// <param name="LastScore">Its latest served score.</param>
public sealed record CallCandidate(string Fields, ServedScore LastScore);

/// <summary>Everything the store knows about one lead.</summary>
/// <param name="LeadId">The lead.</param>
/// <param name="Fields">Its columns as last scored (<see cref="StoredLead"/>).</param>
/// <param name="FirstSeen">When it was first scored.</param>
/// <param name="LastScored">When it was last scored.</param>
/// <param name="LastScore">Its latest score.</param>
/// <param name="Events">Its outcome events by time.</param>
/// <param name="Recommendations">How often it was put on a call list.</param>
public sealed record LeadRecord(string LeadId, string Fields, DateTimeOffset FirstSeen, DateTimeOffset LastScored, ServedScore LastScore,
    IReadOnlyList<OutcomeEvent> Events, int Recommendations);

/// <summary>What the learners read of a stored lead: its fields as scored (JSON) and the probability last served for it.</summary>
public sealed record LeadSnapshot(string LeadId, string Fields, double LastProbability);

/// <summary>An outcome names a lead that was never scored.</summary>
public sealed class UnknownLeadException(string leadId)
    : Exception($"lead '{leadId}' is not known: score it first (POST /v1/score)")
{
    /// <summary>The lead id.</summary>
    public string LeadId { get; } = leadId;
}

/// <summary>An event id was used before for a different event.</summary>
public sealed class EventConflictException(string eventId)
    : Exception($"event '{eventId}' was already stored with different contents; event ids must be unique")
{
    /// <summary>The event id.</summary>
    public string EventId { get; } = eventId;
}

/// <summary>The database cannot be used by this version (schema newer than this build, or unreachable).</summary>
public sealed class FeedbackStoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Times as the store keeps them: UTC, whole microseconds (PostgreSQL's resolution).</summary>
public static class StoredTime
{
    /// <summary><paramref name="time"/> in UTC, cut to whole microseconds.</summary>
    public static DateTimeOffset Of(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % 10, TimeSpan.Zero);
    }
}
