using LeadEngine.Evaluation;
using LeadEngine.LeadScoring;
using LeadEngine.LeadScoring.Metrics;

namespace LeadEngine.Tests.Evaluation;

/// <summary>Ranking within windows: what a call centre ranking one day's leads sees, beside the pooled figures.</summary>
public sealed class RankingWindowsTests
{
    private static Lead At(DateTimeOffset t, int i) => new() { Id = $"L{i}", CreatedAt = t };

    [Fact]
    public void DatedLeadsAreCutByDayOrWeekAndUndatedOnesByCount()
    {
        var start = new DateTimeOffset(2025, 3, 3, 0, 30, 0, TimeSpan.Zero); // a Monday
        var dated = Enumerable.Range(0, 30).Select(i => At(start.AddHours(8 * i), i)).ToList();
        var days = RankingWindows.Of(dated);
        Assert.Equal("day", days.Description);
        Assert.Equal(10, days.Windows.Count);
        Assert.All(days.Windows, w => Assert.Equal(3, w.Length));
        Assert.Equal(2, RankingWindows.Of(dated, "week").Windows.Count);
        Assert.Equal([10, 10, 10], RankingWindows.Of(dated, "10").Windows.Select(w => w.Length));

        var undated = Enumerable.Range(0, 1200).Select(i => At(LeadDataReader.RowOrderTime(5000 + i), i)).ToList();
        Assert.True(LeadDataReader.HasRowOrderTimes(undated));
        var chunks = RankingWindows.Of(undated);
        Assert.Equal("500 leads", chunks.Description);
        Assert.Equal([500, 500, 200], chunks.Windows.Select(w => w.Length));
        Assert.Contains("no dates", Assert.Throws<ArgumentException>(() => RankingWindows.Of(undated, "day")).Message);
        Assert.Contains("day, week or a number", Assert.Throws<ArgumentException>(() => RankingWindows.Of(undated, "fortnight")).Message);
    }

    /// <summary>
    /// A score that only follows time, over a period whose conversion rate rises, ranks well pooled and at chance within a
    /// day; a score that knows the lead ranks well within the day.
    /// </summary>
    [Fact]
    public void AScoreThatOnlyFollowsTimeWinsPooledAndNotWithinTheDay()
    {
        var rng = new Random(7);
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var leads = new List<Lead>();
        var labels = new List<int>();
        var quality = new List<double>();
        for (int day = 0; day < 40; day++)
            for (int j = 0; j < 50; j++)
            {
                double q = rng.NextDouble();
                leads.Add(At(start.AddDays(day).AddMinutes(j), leads.Count));
                quality.Add(q);
                labels.Add(rng.NextDouble() < 0.02 + 0.5 * day / 40.0 * q ? 1 : 0);
            }
        var time = leads.Select(l => (double)l.CreatedAt.ToUnixTimeSeconds()).ToList();
        var windows = RankingWindows.Of(leads);
        Assert.True(LeadMetrics.RocAuc(time, labels) > 0.65);
        Assert.InRange(windows.MeanAuc(time, labels), 0.4, 0.6);
        Assert.True(windows.MeanAuc(quality, labels) > 0.65);
        Assert.True(windows.MeanPrecisionAtCapacity(quality, labels) > windows.MeanPrecisionAtCapacity(time, labels));
        Assert.Equal(5, windows.Capacity(50));
    }
}
