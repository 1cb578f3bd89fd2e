using LeadEngine.Engine;

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

/// <summary>A lead file row is malformed. The message names the file, line and column.</summary>
public sealed class LeadDataException(string file, int line, string? column, string problem)
    : Exception(column is null ? $"{file}:{line}: {problem}" : $"{file}:{line}: column '{column}': {problem}")
{
    /// <summary>The file.</summary>
    public string File { get; } = file;
    /// <summary>1-based line where the row starts.</summary>
    public int Line { get; } = line;
    /// <summary>The column at fault, if one is.</summary>
    public string? Column { get; } = column;
    /// <summary>What is wrong, without the place.</summary>
    public string Problem { get; } = problem;
}

/// <summary>Leads read from a file, with the rows skipped under <c>--skip-bad-rows</c>.</summary>
/// <param name="Leads">The good rows, in file order.</param>
/// <param name="Skipped">One error per skipped row.</param>
/// <param name="Columns">The column mapping as applied to this file (roles it lacks are absent).</param>
/// <param name="Notes">What the mapping had to assume, one line each (e.g. no creation time: row order).</param>
public sealed record LeadDataSet(IReadOnlyList<Lead> Leads, IReadOnlyList<LeadDataException> Skipped, LeadColumns Columns, IReadOnlyList<string> Notes);
