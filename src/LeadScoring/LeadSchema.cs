using System.Text.Json;
using System.Text.Json.Serialization;

using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// What a trained adapter expects of a lead: the feature columns it saw in training and its
/// funnel. Kept beside the adapter (<see cref="FileName"/>) so a scorer can refuse a column it
/// never saw (a renamed CRM field would otherwise change the prompt, and the score, silently).
/// </summary>
public sealed record LeadSchema
{
    /// <summary>File name in the adapter folder.</summary>
    public const string FileName = "lead_schema.json";

    /// <summary>Feature columns seen in the training leads, sorted.</summary>
    [JsonPropertyName("features")] public required string[] Features { get; init; }

    /// <summary>The funnel the adapter was trained with.</summary>
    [JsonPropertyName("funnel")] public required FunnelConfig Funnel { get; init; }

    /// <summary>The column mapping of the training file, which scoring files of the same layout are read with; our names when absent.</summary>
    [JsonPropertyName("columns")] public LeadColumns? Columns { get; init; }

    /// <summary>The schema of <paramref name="leads"/>: every feature column that any of them has.</summary>
    public static LeadSchema Of(IEnumerable<Lead> leads, FunnelConfig funnel, LeadColumns? columns = null) => new()
    {
        Features = leads.SelectMany(l => l.Features.Select(f => f.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
        Funnel = funnel,
        Columns = columns,
    };

    /// <summary>The funnel of <paramref name="schema"/>, or <see cref="FunnelConfig.Default"/> without one.</summary>
    public static FunnelConfig FunnelOf(LeadSchema? schema) => schema?.Funnel ?? FunnelConfig.Default;

    /// <summary>True for a column a lead may carry: a feature seen in training or a reserved column.</summary>
    public bool Accepts(string column) => LeadColumns.Reserved.Contains(column) || Array.BinarySearch(Features, column, StringComparer.Ordinal) >= 0;

    /// <summary>Writes the schema into <paramref name="adapterDir"/> (atomically).</summary>
    public void Save(string adapterDir) =>
        AtomicFile.WriteAllText(Path.Combine(adapterDir, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The schema in <paramref name="adapterDir"/>, or null for an adapter written before schemas were kept.</summary>
    public static LeadSchema? Load(string adapterDir)
    {
        string path = Path.Combine(adapterDir, FileName);
        if (!File.Exists(path)) return null;
        var schema = JsonFile.Read<LeadSchema>(path, "lead schema");
        schema.Funnel.Validate(path);
        return schema with { Features = schema.Features.Order(StringComparer.Ordinal).ToArray() };
    }
}
