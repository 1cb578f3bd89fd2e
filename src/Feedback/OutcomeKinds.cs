namespace LeadEngine.Feedback;

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
