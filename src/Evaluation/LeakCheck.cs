using LeadEngine.LeadScoring;
using LeadEngine.LeadScoring.Metrics;
using System.Globalization;

namespace LeadEngine.Evaluation;

/// <summary>
/// Flags columns that look filled in after contact (a rep's quality tag, a last activity): each
/// feature column alone, as a number (missing ranked lowest) or, for other columns, as its values'
/// smoothed conversion rate measured on the other half of the training leads (odd rows rate even
/// rows and back, so a value seen on one lead only, an identifier, gets the base rate), ranks the
/// label with an AUC of at least <see cref="Threshold"/>.
/// </summary>
public static class LeakCheck
{
    /// <summary>AUC from which a single column is suspect.</summary>
    public const double Threshold = 0.9;

    /// <summary>Pseudo-leads of the base rate added to every category's rate.</summary>
    public const double Smoothing = 20;

    /// <summary>The suspect columns of labelled <paramref name="leads"/>, most suspect first.</summary>
    public static IReadOnlyList<SuspectColumn> Find(IReadOnlyList<Lead> leads)
    {
        var labels = leads.Select(l => l.Converted!.Value).ToArray();
        if (labels.Distinct().Count() < 2) return [];
        double baseRate = labels.Average();
        var suspects = new List<SuspectColumn>();
        foreach (string column in leads.SelectMany(l => l.Features.Select(f => f.Key)).Distinct(StringComparer.Ordinal))
        {
            var values = leads.Select(l => l.Feature(column)).ToArray();
            bool numeric = values.All(v => v is null || double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            double[] score;
            if (numeric)
            {
                score = values.Select(v => v is null ? double.NegativeInfinity : double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
            }
            else
            {
                Dictionary<string, double> Rates(int half) => Enumerable.Range(0, values.Length).Where(i => i % 2 == half)
                    .GroupBy(i => values[i] ?? "", StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => (g.Sum(i => labels[i]) + Smoothing * baseRate) / (g.Count() + Smoothing), StringComparer.Ordinal);
                var rates = new[] { Rates(1), Rates(0) };
                score = values.Select((v, i) => rates[i % 2].GetValueOrDefault(v ?? "", baseRate)).ToArray();
            }
            double auc = LeadMetrics.RocAuc(score, labels);
            auc = Math.Max(auc, 1 - auc);
            if (auc >= Threshold) suspects.Add(new SuspectColumn(column, auc));
        }
        return suspects.OrderByDescending(s => s.Auc).ToList();
    }
}
