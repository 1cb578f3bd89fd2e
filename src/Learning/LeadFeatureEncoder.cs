using System.Globalization;
using LeadEngine.Engine.Leads;

namespace LeadEngine.Learning;

/// <summary>
/// A lead's structured columns as numbers for a linear model: a column whose values all parse as
/// numbers is standardised (missing → 0, the mean); any other column is one-hot over the values
/// seen when fitting, up to <see cref="MaxCategories"/> most frequent (an unseen or rarer value is all
/// zeros). Fitted once on a training set; the layout never changes after.
/// </summary>
public sealed class LeadFeatureEncoder
{
    /// <summary>Most categories one column gets.</summary>
    public const int MaxCategories = 20;

    private readonly List<(string Column, int Slot, double Mean, double Scale)> _numeric = [];
    private readonly List<(string Column, Dictionary<string, int> Slots)> _categorical = [];

    /// <summary>Length of an encoded lead.</summary>
    public int Width { get; private set; }

    /// <summary>The encoder of the columns of <paramref name="leads"/>.</summary>
    public static LeadFeatureEncoder Fit(IReadOnlyList<Lead> leads)
    {
        var encoder = new LeadFeatureEncoder();
        var columns = leads.SelectMany(l => l.Features.Select(f => f.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (string column in columns)
        {
            var values = leads.Select(l => Value(l, column)).Where(v => v is not null).Select(v => v!).ToList();
            var numbers = values.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.NaN).ToList();
            if (numbers.All(double.IsFinite))
            {
                double mean = numbers.Count == 0 ? 0 : numbers.Average();
                double sd = numbers.Count < 2 ? 1 : Math.Sqrt(numbers.Sum(x => (x - mean) * (x - mean)) / (numbers.Count - 1));
                encoder._numeric.Add((column, encoder.Width, mean, sd > 0 ? sd : 1));
                encoder.Width++;
            }
            else
            {
                var slots = values.GroupBy(v => v, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Take(MaxCategories).Select((g, i) => (g.Key, Slot: encoder.Width + i)).ToDictionary(x => x.Key, x => x.Slot, StringComparer.Ordinal);
                encoder._categorical.Add((column, slots));
                encoder.Width += slots.Count;
            }
        }
        return encoder;
    }

    /// <summary>The encoded columns of <paramref name="lead"/>.</summary>
    public double[] Encode(Lead lead)
    {
        var x = new double[Width];
        foreach (var (column, slot, mean, scale) in _numeric)
        {
            string? v = Value(lead, column);
            x[slot] = v is not null && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? (d - mean) / scale : 0;
        }
        foreach (var (column, slots) in _categorical)
            if (Value(lead, column) is { } v && slots.TryGetValue(v, out int s)) x[s] = 1;
        return x;
    }

    private static string? Value(Lead lead, string column)
    {
        foreach (var (name, value) in lead.Features)
            if (name == column) return value;
        return null;
    }
}
