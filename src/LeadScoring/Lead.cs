namespace LeadEngine.LeadScoring;

/// <summary>One lead: identity, time, outcome (when known), features and free text.</summary>
public sealed record Lead
{
    /// <summary>Lead id.</summary>
    public required string Id { get; init; }
    /// <summary>When the lead was created (the temporal split orders by this).</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>Converted label (0/1); null for leads to be scored.</summary>
    public int? Converted { get; init; }
    /// <summary>Furthest funnel stage reached; null for leads to be scored.</summary>
    public string? Stage { get; init; }
    /// <summary>Longest call in seconds (an outcome signal for HPRO, never a prompt feature).</summary>
    public double? CallSeconds { get; init; }
    /// <summary>Feature columns in file order: name and value text (numbers in invariant culture).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Features { get; init; } = [];
    /// <summary>Call or chat transcript, CRM notes.</summary>
    public string? Dialogue { get; init; }

    /// <summary>The value of feature column <paramref name="name"/>, or null when the lead has none.</summary>
    public string? Feature(string name)
    {
        foreach (var (key, value) in Features)
            if (key == name) return value;
        return null;
    }
}
