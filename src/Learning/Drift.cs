using LeadEngine.Feedback;
using LeadEngine.LeadScoring.Metrics;

namespace LeadEngine.Learning;

/// <summary>Drift of the served score distribution and of its calibration between two time windows.</summary>
public static class Drift
{
    /// <summary>
    /// Population stability index Σ (cᵢ − rᵢ)·ln(cᵢ / rᵢ) over the reference's decile bins, with the
    /// shares rᵢ, cᵢ floored at 1e-4 so that an empty bin counts as a large shift instead of an infinite one.
    /// </summary>
    public static double PopulationStability(IReadOnlyList<double> reference, IReadOnlyList<double> current, int bins = 10)
    {
        if (reference.Count == 0 || current.Count == 0) return double.NaN;
        var sorted = reference.Order().ToArray();
        var edges = Enumerable.Range(1, bins - 1).Select(i => sorted[(int)((long)i * (sorted.Length - 1) / bins)]).Distinct().ToArray();
        double[] Shares(IReadOnlyList<double> values)
        {
            var counts = new double[edges.Length + 1];
            foreach (double v in values)
            {
                int bin = Array.BinarySearch(edges, v);
                counts[bin < 0 ? ~bin : bin]++;
            }
            return counts.Select(c => Math.Max(c / values.Count, 1e-4)).ToArray();
        }
        var r = Shares(reference);
        var c = Shares(current);
        return r.Zip(c, (a, b) => (b - a) * Math.Log(b / a)).Sum();
    }

    /// <summary>
    /// The drift report for scores served in [<paramref name="referenceFrom"/>, <paramref name="currentFrom"/>)
    /// against those in [<paramref name="currentFrom"/>, <paramref name="until"/>); each lead counts once per
    /// window, with its last score there. Calibration uses the leads whose outcome is final.
    /// </summary>
    public static async Task<DriftReport> ComputeAsync(FeedbackStore store, DateTimeOffset referenceFrom, DateTimeOffset currentFrom, DateTimeOffset until,
        CancellationToken cancel = default)
    {
        var reference = Latest(await store.ScoresAsync(referenceFrom, currentFrom, cancel));
        var current = Latest(await store.ScoresAsync(currentFrom, until, cancel));
        var outcomes = (await store.EventsAsync(cancel)).Where(e => e.Kind.IsFinal()).GroupBy(e => e.LeadId)
            .ToDictionary(g => g.Key, g => g.Any(e => e.Kind == OutcomeKind.Converted) ? 1 : 0, StringComparer.Ordinal);
        return new DriftReport(reference.Count, current.Count, PopulationStability(reference.Values.ToList(), current.Values.ToList()),
            Calibration(reference, outcomes), Calibration(current, outcomes));
    }

    private static Dictionary<string, double> Latest(IReadOnlyList<(string LeadId, double Probability, DateTimeOffset At)> scores) =>
        scores.GroupBy(s => s.LeadId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.MaxBy(s => s.At).Probability, StringComparer.Ordinal);

    private static WindowCalibration? Calibration(Dictionary<string, double> scores, Dictionary<string, int> outcomes)
    {
        var closed = scores.Where(s => outcomes.ContainsKey(s.Key)).ToList();
        if (closed.Count == 0) return null;
        var p = closed.Select(s => s.Value).ToList();
        var y = closed.Select(s => outcomes[s.Key]).ToList();
        return new WindowCalibration(closed.Count, p.Average(), y.Average(), LeadMetrics.ExpectedCalibrationError(p, y));
    }
}
