namespace LeadEngine.LeadScoring.Metrics;

/// <summary>Time-ordered train/test split: the earliest leads train, the latest test; no look-ahead.</summary>
public static class TemporalSplit
{
    /// <summary>
    /// Sorts by <see cref="Lead.CreatedAt"/> (then id) and cuts at <paramref name="trainFraction"/>;
    /// leads sharing the cut's timestamp all go to training, so every test lead is strictly later.
    /// </summary>
    public static (IReadOnlyList<Lead> Train, IReadOnlyList<Lead> Test) Split(IReadOnlyList<Lead> leads, double trainFraction = 0.7)
    {
        if (trainFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(trainFraction), "must be in (0, 1)");
        var ordered = leads.OrderBy(l => l.CreatedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList();
        int cut = (int)Math.Round(ordered.Count * trainFraction);
        while (cut > 0 && cut < ordered.Count && ordered[cut].CreatedAt == ordered[cut - 1].CreatedAt) cut++;
        return (ordered[..cut], ordered[cut..]);
    }
}
