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

    /// <summary>
    /// Feature columns whose every training value was a finite number, which the model reads as numbers; null for
    /// adapters saved before column kinds were kept.
    /// </summary>
    [JsonPropertyName("numeric")] public string[]? Numeric { get; init; }

    /// <summary>The funnel the adapter was trained with.</summary>
    [JsonPropertyName("funnel")] public required FunnelConfig Funnel { get; init; }

    /// <summary>The column mapping of the training file, which scoring files of the same layout are read with; our names when absent.</summary>
    [JsonPropertyName("columns")] public LeadColumns? Columns { get; init; }

    /// <summary>The schema of <paramref name="leads"/>: every feature column that any of them has.</summary>
    public static LeadSchema Of(IEnumerable<Lead> leads, FunnelConfig funnel, LeadColumns? columns = null)
    {
        var values = leads.SelectMany(l => l.Features).GroupBy(f => f.Key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        return new()
        {
            Features = values.Select(g => g.Key).ToArray(),
            Numeric = values.Where(g => g.All(f => LeadFeatureEncoder.IsFiniteNumber(f.Value))).Select(g => g.Key).ToArray(),
            Funnel = funnel,
            Columns = columns,
        };
    }

    /// <summary>
    /// Why the model cannot read <paramref name="value"/> in <paramref name="column"/>, or null when it can: a column
    /// numeric in training needs a finite number (anything else would be read as missing, silently). Other columns
    /// take any text (values not seen in training encode as none of the seen ones).
    /// </summary>
    public string? Refuses(string column, string value) =>
        IsNumeric(column) && !LeadFeatureEncoder.IsFiniteNumber(value)
            ? $"'{(value.Length <= 64 ? value : value[..64] + "…")}' is not a finite number; the model reads '{column}' as a number"
            : null;

    /// <summary>True for a column the model read as a number in training.</summary>
    public bool IsNumeric(string column) => Numeric is not null && Array.BinarySearch(Numeric, column, StringComparer.Ordinal) >= 0;

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
        return schema with { Features = schema.Features.Order(StringComparer.Ordinal).ToArray(), Numeric = schema.Numeric?.Order(StringComparer.Ordinal).ToArray() };
    }
}
