namespace LeadEngine.Feedback;

/// <summary>An event id was used before for a different event.</summary>
public sealed class EventConflictException(string eventId)
    : Exception($"event '{eventId}' was already stored with different contents; event ids must be unique")
{
    /// <summary>The event id.</summary>
    public string EventId { get; } = eventId;
}
