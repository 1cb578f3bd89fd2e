using LeadEngine.LeadScoring;
using LeadEngine.Feedback;
using LeadEngine.Learning;
using LeadEngine.Tests.Serving;

namespace LeadEngine.Tests.Learning;

/// <summary>Score and calibration drift between two windows of served scores.</summary>
public sealed class DriftTests
{
    [Fact]
    public void PopulationStabilityMatchesAHandComputation()
    {
        // Reference 0..9 → bins of one value each with the decile edges 0,1,…,8 (shares 0.1 each);
        // current: 5 values in bin 0 and 5 in bin 9 → shares 0.5, 1e-4 × 8, 0.5.
        var reference = Enumerable.Range(0, 10).Select(i => (double)i).ToList();
        var current = Enumerable.Repeat(0.0, 5).Concat(Enumerable.Repeat(9.0, 5)).ToList();
        double expected = 2 * (0.5 - 0.1) * Math.Log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * Math.Log(1e-4 / 0.1);
        Assert.Equal(expected, Drift.PopulationStability(reference, current), 10);
        Assert.Equal(0, Drift.PopulationStability(reference, reference), 12);
        var rng = new Random(1);
        var same = Enumerable.Range(0, 5000).Select(_ => rng.NextDouble()).ToList();
        var again = Enumerable.Range(0, 5000).Select(_ => rng.NextDouble()).ToList();
        var shifted = again.Select(v => Math.Min(1, v + 0.3)).ToList();
        Assert.True(Drift.PopulationStability(same, again) < 0.1);
        Assert.True(Drift.PopulationStability(same, shifted) > 0.25);
        Assert.True(double.IsNaN(Drift.PopulationStability([], again)));
    }

    [Theory, MemberData(nameof(TestDatabases.Kinds), MemberType = typeof(TestDatabases))]
    public async Task WindowsTakeEachLeadsLastScoreAndCalibrateOnClosedLeads(string kind)
    {
        await using var db = await TestDatabases.CreateAsync(kind);
        await using var store = await FeedbackStore.OpenAsync(db.Target);
        var t0 = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        Lead L(string id) => new() { Id = id, CreatedAt = t0 };
        ServedScore S(string id, double p) => new(id, "v1", p, 0, 50, 'C');
        await store.RecordScoresAsync([(L("A"), S("A", 0.1)), (L("B"), S("B", 0.2))], t0);
        await store.RecordScoresAsync([(L("A"), S("A", 0.3))], t0.AddDays(1));       // A's last score in the reference window
        await store.RecordScoresAsync([(L("C"), S("C", 0.8)), (L("D"), S("D", 0.6))], t0.AddDays(10));
        await store.AddEventsAsync(
        [
            new OutcomeEvent("e1", "A", OutcomeKind.Converted, t0.AddDays(2)),
            new OutcomeEvent("e2", "B", OutcomeKind.Lost, t0.AddDays(2)),
            new OutcomeEvent("e3", "C", OutcomeKind.Responded, t0.AddDays(11)),      // not final: C is not calibrated on
            new OutcomeEvent("e4", "D", OutcomeKind.Converted, t0.AddDays(12)),
        ], t0.AddDays(12));
        var report = await Drift.ComputeAsync(store, t0, t0.AddDays(7), t0.AddDays(14));
        Assert.Equal(2, report.ReferenceScores);
        Assert.Equal(2, report.CurrentScores);
        Assert.True(report.Psi > 0.25, $"{report.Psi}");
        Assert.Equal(new WindowCalibration(2, 0.25, 0.5, LeadEngine.LeadScoring.Metrics.LeadMetrics.ExpectedCalibrationError([0.3, 0.2], [1, 0])),
            report.ReferenceCalibration! with { MeanPredicted = Math.Round(report.ReferenceCalibration!.MeanPredicted, 12) });
        Assert.Equal(1, report.CurrentCalibration!.Leads);
        Assert.Equal(1, report.CurrentCalibration.ObservedRate);
    }
}
