using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

using LeadEngine.Engine;

namespace LeadEngine.LeadScoring;

/// <summary>
/// A lead's structured columns as numbers for a linear model (the wide part of the score heads, the
/// simulator's Bayesian head). A column whose values all parse as numbers is standardised and clipped
/// to ±<see cref="Clip"/> (missing → 0, the mean), with a missing indicator if any fitting lead lacked
/// it; any other column is one-hot over the values seen when fitting, up to <see cref="MaxCategories"/>
/// most frequent (a missing, unseen or rarer value is all zeros: the column's baseline). Fitted once on a
/// training set; the layout never changes after, and <see cref="Save"/> keeps it beside an adapter.
/// </summary>
public sealed class LeadFeatureEncoder
{
    /// <summary>Most categories one column gets.</summary>
    public const int MaxCategories = 20;

    /// <summary>Standardised values are clipped to ±this (values far outside the training range, e.g. under drift, stay bounded).</summary>
    public const double Clip = 5;

    /// <summary>File name in an adapter folder.</summary>
    public const string FileName = "feature_encoder.json";

    /// <summary>One encoded column.</summary>
    /// <param name="Name">The lead column.</param>
    /// <param name="Mean">Numeric: the training mean.</param>
    /// <param name="Scale">Numeric: the training standard deviation (1 when constant).</param>
    /// <param name="MissingIndicator">Numeric: whether a slot says the value is missing.</param>
    /// <param name="Categories">Categorical: the one-hot values in slot order; null for a numeric column.</param>
    public sealed record Column(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("mean")] double Mean,
        [property: JsonPropertyName("scale")] double Scale,
        [property: JsonPropertyName("missing_indicator")] bool MissingIndicator,
        [property: JsonPropertyName("categories")] string[]? Categories);

    private readonly (Column Column, int Slot, Dictionary<string, int>? Slots)[] _columns;

    /// <summary>The columns in slot order.</summary>
    public IReadOnlyList<Column> Columns { get; }

    /// <summary>Length of an encoded lead.</summary>
    public int Width { get; }

    /// <summary>The encoder of <paramref name="columns"/>, laid out in their order.</summary>
    public LeadFeatureEncoder(IReadOnlyList<Column> columns)
    {
        Columns = columns;
        _columns = new (Column, int, Dictionary<string, int>?)[columns.Count];
        int width = 0;
        for (int i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            _columns[i] = (c, width, c.Categories?.Select((v, j) => (v, j)).ToDictionary(p => p.v, p => p.j, StringComparer.Ordinal));
            width += c.Categories?.Length ?? (c.MissingIndicator ? 2 : 1);
        }
        Width = width;
    }

    /// <summary>The encoder of the columns of <paramref name="leads"/>, in name order.</summary>
    public static LeadFeatureEncoder Fit(IReadOnlyList<Lead> leads)
    {
        var names = leads.SelectMany(l => l.Features.Select(f => f.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var columns = new List<Column>();
        foreach (string name in names)
        {
            var values = leads.Select(l => l.Feature(name)).Where(v => v is not null).Select(v => v!).ToList();
            if (values.All(IsFiniteNumber))
            {
                var numbers = values.Select(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToList();
                double mean = numbers.Count == 0 ? 0 : numbers.Average();
                double sd = numbers.Count < 2 ? 1 : Math.Sqrt(numbers.Sum(x => (x - mean) * (x - mean)) / (numbers.Count - 1));
                columns.Add(new Column(name, mean, sd > 0 ? sd : 1, values.Count < leads.Count, null));
            }
            else
            {
                var categories = values.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Take(MaxCategories).Select(g => g.Key).ToArray();
                columns.Add(new Column(name, 0, 1, false, categories));
            }
        }
        return new LeadFeatureEncoder(columns);
    }

    /// <summary>True when <paramref name="value"/> is a finite number: what a numeric column holds.</summary>
    public static bool IsFiniteNumber(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d);

    /// <summary>The encoded columns of <paramref name="lead"/>.</summary>
    public double[] Encode(Lead lead)
    {
        var x = new double[Width];
        foreach (var (column, slot, slots) in _columns)
        {
            string? v = lead.Feature(column.Name);
            if (slots is not null)
            {
                if (v is not null && slots.TryGetValue(v, out int s)) x[slot + s] = 1;
            }
            else if (v is not null && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            {
                x[slot] = Math.Clamp((d - column.Mean) / column.Scale, -Clip, Clip);
            }
            else if (column.MissingIndicator)
            {
                x[slot + 1] = 1;
            }
        }
        return x;
    }

    /// <summary>The encoded columns of <paramref name="lead"/> in single precision (what the score heads read).</summary>
    public float[] EncodeSingle(Lead lead) => Array.ConvertAll(Encode(lead), v => (float)v);

    /// <summary>What slot <paramref name="slot"/> means, e.g. <c>age</c>, <c>age missing</c>, <c>channel = referral</c>.</summary>
    public string SlotName(int slot)
    {
        foreach (var (column, first, _) in _columns)
        {
            int width = column.Categories?.Length ?? (column.MissingIndicator ? 2 : 1);
            if (slot < first || slot >= first + width) continue;
            return column.Categories is { } c ? $"{column.Name} = {c[slot - first]}" : slot == first ? column.Name : $"{column.Name} missing";
        }
        throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is outside the encoder's {Width}");
    }

    /// <summary>Writes <see cref="FileName"/> into <paramref name="directory"/> (atomically).</summary>
    public void Save(string directory) =>
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(new { columns = Columns }, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The encoder saved in <paramref name="directory"/>, or null when it holds none.</summary>
    public static LeadFeatureEncoder? Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        var file = JsonFile.Read<SavedEncoder>(path, "feature encoder");
        foreach (var c in file.Columns)
            if (string.IsNullOrEmpty(c.Name) || !(c.Scale > 0) || !double.IsFinite(c.Mean))
                throw new InvalidDataException($"{path}: column '{c.Name}' has no name, a non-positive scale or a non-finite mean");
        return new LeadFeatureEncoder(file.Columns);
    }

    private sealed record SavedEncoder([property: JsonPropertyName("columns")] Column[] Columns);
}
