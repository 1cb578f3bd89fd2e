using System.Text.Json.Serialization;

using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// Which column of a lead file holds what: real CRM exports never use our names. Every role but the
/// label may be absent (null): without an id the row number is the id, without a creation time the
/// row order is the time order, without a stage the stage follows the label (the funnel's first stage
/// or its conversion), without call seconds or dialogue there are none. Outcome columns (label,
/// stage, call seconds) and <see cref="Drop"/> never become features. Kept in the adapter's
/// <see cref="LeadSchema"/> so scoring reads files of the same layout with nothing else given.
/// </summary>
public sealed record LeadColumns
{
    /// <summary>The lead id column.</summary>
    [JsonPropertyName("id")] public string? Id { get; init; } = "lead_id";
    /// <summary>Creation time (ISO 8601).</summary>
    [JsonPropertyName("created_at")] public string? CreatedAt { get; init; } = "created_at";
    /// <summary>The converted label: 1/0, yes/no, true/false, y/n (any case).</summary>
    [JsonPropertyName("label")] public string? Label { get; init; } = "converted";
    /// <summary>Furthest funnel stage reached (an outcome).</summary>
    [JsonPropertyName("stage")] public string? Stage { get; init; } = "stage";
    /// <summary>Longest call in seconds (an outcome: the soft-signal tier).</summary>
    [JsonPropertyName("call_seconds")] public string? CallSeconds { get; init; } = "call_seconds";
    /// <summary>Transcript or CRM notes.</summary>
    [JsonPropertyName("dialogue")] public string? Dialogue { get; init; } = "dialogue";
    /// <summary>Columns that are neither roles nor features (e.g. filled in after contact: a leak).</summary>
    [JsonPropertyName("drop")] public string[] Drop { get; init; } = [];

    /// <summary>Our own names (what <c>generate-leads</c> writes and the service takes).</summary>
    public static LeadColumns Standard { get; } = new();

    /// <summary>Our own names' non-feature columns (identity, time, outcomes, the dialogue): <see cref="NotFeatures"/> of <see cref="Standard"/>.</summary>
    public static IReadOnlySet<string> Reserved { get; } = Standard.NotFeatures;

    /// <summary>The mapped role columns and the dropped ones: none of them is a feature (the one list of them).</summary>
    [JsonIgnore]
    public IReadOnlySet<string> NotFeatures => new HashSet<string>(new[] { Id, CreatedAt, Label, Stage, CallSeconds, Dialogue }
        .Where(c => c is not null).Select(c => c!).Concat(Drop), StringComparer.Ordinal);

    /// <summary>Reads a mapping file (the JSON of this record; missing keys keep our names, null means absent).</summary>
    public static LeadColumns Load(string path) => JsonFile.Read<LeadColumns>(path, "column mapping");

    /// <summary>
    /// This mapping for a file whose header is <paramref name="header"/>: optional roles whose column the
    /// file lacks become absent, and each change is described in <paramref name="notes"/>. The label and
    /// every dropped column must exist when given.
    /// </summary>
    public LeadColumns ForHeader(string source, IReadOnlyCollection<string> header, bool requireLabel, List<string> notes)
    {
        string? Keep(string? column, string role, string without)
        {
            if (column is null || header.Contains(column)) return column;
            notes.Add($"no '{column}' column ({role}): {without}");
            return null;
        }
        foreach (string drop in Drop)
            if (!header.Contains(drop)) throw new InvalidDataException($"{source}: --drop names column '{drop}', which the file does not have (columns: {string.Join(", ", header)})");
        if (requireLabel && (Label is null || !header.Contains(Label)))
            throw new InvalidDataException($"{source}: no label column '{Label}' (columns: {string.Join(", ", header)}); name it with --label-column");
        return this with
        {
            Id = Keep(Id, "id", "the row number is the lead id"),
            CreatedAt = Keep(CreatedAt, "creation time", "the row order is taken as the time order"),
            Label = requireLabel ? Label : Keep(Label, "label", "no outcomes"),
            Stage = Keep(Stage, "funnel stage", "the stage follows the label"),
            CallSeconds = Keep(CallSeconds, "call seconds", "no soft-signal tier"),
            Dialogue = Keep(Dialogue, "dialogue", "features only"),
        };
    }
}
