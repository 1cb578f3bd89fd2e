using LeadEngine.LeadScoring;
using LeadEngine.LeadScoring.Metrics;
using System.Globalization;

namespace LeadEngine.Evaluation;

/// <summary>
/// The test leads cut into the windows a call centre ranks at once (a day's new leads, say), so that a model is judged
/// on ordering the leads of one window, not on telling one month from another: over a period in which the conversion
/// rate drifts, a pooled AUC rewards a score that only follows time.
/// </summary>
/// <param name="Description">What a window is, for the report: "day", "week" or "500 leads".</param>
/// <param name="Windows">Each window's leads, as indices into the test leads, in time order.</param>
/// <param name="CapacityShare">The share of each window's leads the call centre can call (at least one lead).</param>
public sealed record RankingWindows(string Description, IReadOnlyList<int[]> Windows, double CapacityShare)
{
    /// <summary>Leads per window when the file has no dates (its rows are in time order, a second apart) and none is asked for.</summary>
    public const int UndatedWindowLeads = 500;

    /// <summary>The share of a window called when none is asked for.</summary>
    public const double DefaultCapacityShare = 0.1;

    /// <summary>
    /// Cuts <paramref name="test"/> (in time order) by <paramref name="spec"/>: <c>day</c>, <c>week</c> (UTC, Monday first)
    /// or a number of leads; null: a day when the leads have dates, else <see cref="UndatedWindowLeads"/> leads.
    /// </summary>
    public static RankingWindows Of(IReadOnlyList<Lead> test, string? spec = null, double capacityShare = DefaultCapacityShare)
    {
        if (capacityShare is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(capacityShare), $"the call capacity must be a share in (0, 1], got {capacityShare}");
        bool dated = !LeadDataReader.HasRowOrderTimes(test);
        spec ??= dated ? "day" : UndatedWindowLeads.ToString(CultureInfo.InvariantCulture);
        var order = Enumerable.Range(0, test.Count).OrderBy(i => test[i].CreatedAt).ThenBy(i => i).ToArray();
        switch (spec)
        {
            case "day":
            case "week":
                if (!dated) throw new ArgumentException($"--window {spec}: the leads have no dates (map a creation-time column), so windows can only be a number of leads");
                string Key(DateTimeOffset t) => spec == "day" ? t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                    : $"{ISOWeek.GetYear(t.UtcDateTime)}-{ISOWeek.GetWeekOfYear(t.UtcDateTime)}";
                return new RankingWindows(spec, order.GroupBy(i => Key(test[i].CreatedAt)).Select(g => g.ToArray()).ToList(), capacityShare);
            default:
                if (!int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < 2)
                    throw new ArgumentException($"--window '{spec}': day, week or a number of leads (at least 2)");
                return new RankingWindows($"{size} leads", order.Chunk(size).ToList(), capacityShare);
        }
    }

    /// <summary>The leads called in a window of <paramref name="count"/>: the capacity share, at least one.</summary>
    public int Capacity(int count) => Math.Max(1, (int)Math.Round(CapacityShare * count));

    /// <summary>Windows in which some leads converted and some did not: the only ones an AUC is defined on.</summary>
    public int WithBothOutcomes(IReadOnlyList<int> labels) => Windows.Count(w => w.Any(i => labels[i] == 1) && w.Any(i => labels[i] == 0));

    /// <summary>The mean AUC over the windows with both outcomes (NaN when none has).</summary>
    public double MeanAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        var aucs = Windows.Select(w => LeadMetrics.RocAuc(w.Select(i => scores[i]).ToList(), w.Select(i => labels[i]).ToList())).Where(a => !double.IsNaN(a)).ToList();
        return aucs.Count == 0 ? double.NaN : aucs.Average();
    }

    /// <summary>The mean, over windows, of the conversion rate among each window's <see cref="Capacity"/> best-scored leads.</summary>
    public double MeanPrecisionAtCapacity(IReadOnlyList<double> scores, IReadOnlyList<int> labels) => Windows.Count == 0 ? double.NaN
        : Windows.Average(w => w.OrderByDescending(i => scores[i]).ThenBy(i => i).Take(Capacity(w.Length)).Average(i => (double)labels[i]));
}
