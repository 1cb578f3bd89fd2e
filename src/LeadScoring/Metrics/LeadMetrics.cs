namespace LeadEngine.LeadScoring.Metrics;

/// <summary>Ranking and calibration metrics for lead scores. Ties are handled as random order (expected values).</summary>
public static class LeadMetrics
{
    /// <summary>ROC AUC by the Mann–Whitney statistic with average ranks for ties; NaN without both classes.</summary>
    public static double RocAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        int n = Check(scores, labels);
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[n];
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) j++;
            double average = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) ranks[order[t]] = average;
            i = j + 1;
        }
        long positives = labels.Count(y => y == 1), negatives = n - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        double rankSum = Enumerable.Range(0, n).Where(i => labels[i] == 1).Sum(i => ranks[i]);
        return (rankSum - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }

    /// <summary>Expected positives among the top k scores (ties at the boundary shared proportionally).</summary>
    private static double PositivesInTop(IReadOnlyList<double> scores, IReadOnlyList<int> labels, int k)
    {
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double found = 0;
        int taken = 0;
        for (int i = 0; i < order.Length && taken < k;)
        {
            int j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            int group = j - i + 1, positives = 0;
            for (int t = i; t <= j; t++) positives += labels[order[t]];
            int take = Math.Min(group, k - taken);
            found += positives * (double)take / group;
            taken += take;
            i = j + 1;
        }
        return found;
    }

    private static int TopCount(int n, double fraction) => Math.Max(1, (int)Math.Ceiling(fraction * n));

    /// <summary>Precision among the top <paramref name="fraction"/> of leads by score (at least one lead).</summary>
    public static double PrecisionAtTop(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double fraction)
    {
        int n = Check(scores, labels);
        int k = TopCount(n, fraction);
        return PositivesInTop(scores, labels, k) / k;
    }

    /// <summary>Share of all positives found in the top <paramref name="fraction"/> of leads; NaN without positives.</summary>
    public static double RecallAtTop(IReadOnlyList<double> scores, IReadOnlyList<int> labels, double fraction)
    {
        int n = Check(scores, labels);
        int positives = labels.Sum();
        return positives == 0 ? double.NaN : PositivesInTop(scores, labels, TopCount(n, fraction)) / positives;
    }

    /// <summary>Mean squared error of probabilities against labels.</summary>
    public static double Brier(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels)
    {
        int n = Check(probabilities, labels);
        return Enumerable.Range(0, n).Sum(i => Math.Pow(probabilities[i] - labels[i], 2)) / n;
    }

    /// <summary>One equal-width calibration bin.</summary>
    /// <param name="Lower">Lower edge.</param>
    /// <param name="Upper">Upper edge.</param>
    /// <param name="Count">Leads in the bin.</param>
    /// <param name="MeanPredicted">Mean probability (NaN when empty).</param>
    /// <param name="ObservedRate">Share of positives (NaN when empty).</param>
    public sealed record CalibrationBin(double Lower, double Upper, int Count, double MeanPredicted, double ObservedRate);

    /// <summary>Equal-width bins over [0, 1]; a probability of exactly 1 falls in the last bin.</summary>
    public static IReadOnlyList<CalibrationBin> CalibrationBins(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels, int bins = 10)
    {
        int n = Check(probabilities, labels);
        var sumP = new double[bins];
        var sumY = new double[bins];
        var count = new int[bins];
        for (int i = 0; i < n; i++)
        {
            int b = Math.Clamp((int)(probabilities[i] * bins), 0, bins - 1);
            sumP[b] += probabilities[i];
            sumY[b] += labels[i];
            count[b]++;
        }
        return Enumerable.Range(0, bins).Select(b => new CalibrationBin((double)b / bins, (double)(b + 1) / bins, count[b],
            count[b] > 0 ? sumP[b] / count[b] : double.NaN, count[b] > 0 ? sumY[b] / count[b] : double.NaN)).ToList();
    }

    /// <summary>
    /// Equal-count bins of the leads sorted by probability (the first <c>N mod bins</c> bins one lead larger), so
    /// every bin holds predictions even when they all sit below a few percent; the edges are the bin's smallest and largest probability.
    /// </summary>
    public static IReadOnlyList<CalibrationBin> QuantileCalibrationBins(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels, int bins = 10)
    {
        int n = Check(probabilities, labels);
        var order = Enumerable.Range(0, n).OrderBy(i => probabilities[i]).ToArray();
        var result = new List<CalibrationBin>();
        int start = 0;
        for (int b = 0; b < Math.Min(bins, n); b++)
        {
            int size = n / Math.Min(bins, n) + (b < n % Math.Min(bins, n) ? 1 : 0);
            var members = order.AsSpan(start, size).ToArray();
            result.Add(new CalibrationBin(probabilities[members[0]], probabilities[members[^1]], size,
                members.Average(i => probabilities[i]), members.Average(i => (double)labels[i])));
            start += size;
        }
        return result;
    }

    /// <summary>Expected calibration error: Σ over bins of (count/N)·|mean predicted − observed rate|.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<double> probabilities, IReadOnlyList<int> labels, int bins = 10)
    {
        int n = Check(probabilities, labels);
        return CalibrationBins(probabilities, labels, bins).Where(b => b.Count > 0)
            .Sum(b => (double)b.Count / n * Math.Abs(b.MeanPredicted - b.ObservedRate));
    }

    /// <summary>Cumulative gains: after contacting the top i leads (i = 0..N), the share of positives found.</summary>
    public static IReadOnlyList<(double Contacted, double Captured)> CumulativeGains(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        int n = Check(scores, labels);
        int positives = Math.Max(1, labels.Sum());
        var points = new List<(double, double)> { (0, 0) };
        for (int k = 1; k <= n; k++) points.Add(((double)k / n, PositivesInTop(scores, labels, k) / positives));
        return points;
    }

    private static int Check(IReadOnlyList<double> scores, IReadOnlyList<int> labels)
    {
        if (scores.Count != labels.Count) throw new ArgumentException($"{scores.Count} scores for {labels.Count} labels");
        if (scores.Count == 0) throw new ArgumentException("no leads to evaluate");
        if (labels.Any(y => y is not (0 or 1))) throw new ArgumentException("labels must be 0 or 1");
        return scores.Count;
    }
}
