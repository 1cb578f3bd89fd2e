namespace LeadEngine.Feedback;

/// <summary>What storing one event did.</summary>
public enum EventStatus
{
    /// <summary>Committed now.</summary>
    Stored,
    /// <summary>The same event was already stored: nothing written.</summary>
    Duplicate,
}
