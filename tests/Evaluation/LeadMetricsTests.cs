using LeadEngine.Evaluation;
using LeadEngine.LeadScoring;
using LeadEngine.LeadScoring.Metrics;

namespace LeadEngine.Tests.Evaluation;

/// <summary>Every metric against values computed by hand, and the temporal split.</summary>
public class LeadMetricsTests
{
    [Fact]
    public void AucCountsTiesAsHalf()
    {
        // Positives 0.9, 0.5; negatives 0.5, 0.1: pairs (0.9>0.5) 1, (0.9>0.1) 1, (0.5=0.5) ½, (0.5>0.1) 1 → 3.5/4.
        Assert.Equal(0.875, LeadMetrics.RocAuc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]), 12);
        Assert.Equal(0.5, LeadMetrics.RocAuc([0.3, 0.3, 0.3], [1, 0, 0]), 12);
        Assert.Equal(0.0, LeadMetrics.RocAuc([0.1, 0.9], [1, 0]), 12);
        Assert.True(double.IsNaN(LeadMetrics.RocAuc([0.1, 0.2], [0, 0])));
    }

    [Fact]
    public void PrecisionAndRecallAtTopShareBoundaryTies()
    {
        double[] scores = [0.9, 0.8, 0.8, 0.1, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0];
        int[] labels = [1, 1, 0, 0, 1, 0, 0, 0, 0, 0];
        // Top 20% = 2 leads: 0.9 (positive) and one of the tied 0.8 (half a positive expected).
        Assert.Equal(0.75, LeadMetrics.PrecisionAtTop(scores, labels, 0.2), 12);
        Assert.Equal(1.5 / 3, LeadMetrics.RecallAtTop(scores, labels, 0.2), 12);
        // Top 0.1% of 10 leads is still one lead.
        Assert.Equal(1.0, LeadMetrics.PrecisionAtTop(scores, labels, 0.001), 12);
        Assert.Equal(1.0, LeadMetrics.RecallAtTop(scores, labels, 0.5), 12);
    }

    [Fact]
    public void BrierAndCalibrationError()
    {
        double[] p = [0.05, 0.15, 0.95, 0.85];
        int[] y = [0, 1, 1, 1];
        Assert.Equal((0.0025 + 0.7225 + 0.0025 + 0.0225) / 4, LeadMetrics.Brier(p, y), 12);
        // Bin 0: p 0.05, y 0 → |0.05−0|; bin 1: |0.15−1|; bin 8: |0.85−1|; bin 9: |0.95−1|; each weight ¼.
        Assert.Equal((0.05 + 0.85 + 0.15 + 0.05) / 4, LeadMetrics.ExpectedCalibrationError(p, y), 12);
        var bins = LeadMetrics.CalibrationBins([1.0, 0.0], [1, 0]);
        Assert.Equal(1, bins[9].Count);
        Assert.Equal(1, bins[0].Count);
    }

    [Fact]
    public void CumulativeGainsEndAtOne()
    {
        var gains = LeadMetrics.CumulativeGains([0.9, 0.2, 0.7, 0.1], [1, 0, 1, 0]);
        Assert.Equal((0.0, 0.0), gains[0]);
        Assert.Equal((0.5, 1.0), gains[2]);
        Assert.Equal((1.0, 1.0), gains[^1]);
    }

    [Fact]
    public void TemporalSplitHasNoLookAhead()
    {
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var leads = Enumerable.Range(0, 10).Select(i => new Lead { Id = $"L{9 - i}", CreatedAt = start.AddDays(i == 7 ? 6 : i) }).Reverse().ToList();
        var (train, test) = TemporalSplit.Split(leads);
        Assert.Equal(8, train.Count); // days 0..6 plus the second lead on day 6 stay together
        Assert.True(train.Max(l => l.CreatedAt) < test.Min(l => l.CreatedAt));
        Assert.Equal(10, train.Concat(test).Select(l => l.Id).Distinct().Count());
    }

    /// <summary>Funnel+Recency and Funnel+CTR: the stage at scoring time first, then recency or the CTR model's probability.</summary>
    [Fact]
    public void FunnelBaselinesRankByStageThenWithinIt()
    {
        static Lead At(string id, int day, string? stage) => new()
        {
            Id = id, CreatedAt = DateTimeOffset.UnixEpoch.AddDays(day),
            Features = stage is null ? [] : [new(FunnelRecencyBaseline.CurrentStageFeature, stage)],
        };
        var funnel = FunnelConfig.Automotive;
        var leads = new[] { At("a", 0, funnel.Stages[1]), At("b", 5, funnel.Stages[1]), At("c", 9, null), At("d", 1, funnel.Stages[2]) };
        static string[] Order(double[] s, Lead[] l) => l.Zip(s).OrderByDescending(p => p.Second).Select(p => p.First.Id).ToArray();
        Assert.Equal(["d", "b", "a", "c"], Order(FunnelRecencyBaseline.Score(leads, funnel), leads));
        Assert.Equal(["d", "a", "b", "c"], Order(FunnelRecencyBaseline.Score(leads, funnel, [0.9, 0.2, 1.0, 0.0]), leads));
        Assert.Throws<ArgumentException>(() => FunnelRecencyBaseline.Score(leads, funnel, [0.5]));
    }
}
