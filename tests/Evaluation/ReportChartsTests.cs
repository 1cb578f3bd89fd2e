using LeadEngine.Evaluation;
using LeadEngine.LeadScoring.Metrics;

namespace LeadEngine.Tests.Evaluation;

/// <summary>Checks on written charts, shared by the tests that write reports.</summary>
public static class ChartAssert
{
    /// <summary>Asserts <paramref name="name"/>.png is a PNG and <paramref name="name"/>.svg names every series.</summary>
    public static void ShowsEverySeries(string directory, string name, IEnumerable<string> series)
    {
        byte[] png = File.ReadAllBytes(Path.Combine(directory, name + ".png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        string svg = File.ReadAllText(Path.Combine(directory, name + ".svg"));
        Assert.Contains("<svg", svg);
        foreach (string s in series) Assert.Contains(System.Security.SecurityElement.Escape(s), svg);
    }
}

/// <summary>The report charts (ScottPlot): a PNG and an SVG per chart, with every model in the legend.</summary>
public sealed class ReportChartsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("le-charts-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void EveryChartHasEveryModel()
    {
        var rng = new Random(3);
        int n = 2000;
        var labels = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.02 ? 1 : 0).ToArray();
        // At a 2% rate every probability is below 0.1: the calibration chart must still spread over its bins.
        var good = labels.Select(y => 0.01 + 0.03 * y + 0.02 * rng.NextDouble()).ToArray();
        var noise = labels.Select(_ => 0.05 * rng.NextDouble()).ToArray();
        ScoredModel[] models = [new("scorer & heads", good, good), new("baseline", noise, noise), new("rank only", noise, null)];
        ReportCharts.Write(_dir, models, labels);
        ChartAssert.ShowsEverySeries(_dir, "gains", models.Select(m => m.Name));
        ChartAssert.ShowsEverySeries(_dir, "lift", models.Select(m => m.Name));
        ChartAssert.ShowsEverySeries(_dir, "calibration", ["scorer & heads", "baseline"]);
        ChartAssert.ShowsEverySeries(_dir, "distribution", ["converted", "not converted"]);
    }

    /// <summary>
    /// The demo's nine curves with their long names: the legend below the data holds every entry inside the image (it used
    /// to be cut at the bottom edge after five), so the bottom rows of the PNG are plain background.
    /// </summary>
    [Fact]
    public void NineLongNamesAllShowInTheLegend()
    {
        var rng = new Random(4);
        var labels = Enumerable.Range(0, 1000).Select(_ => rng.NextDouble() < 0.1 ? 1 : 0).ToArray();
        string[] names = ["LeadEngine HPRO (BCE+HPRO+LM) (default: stacked + LightGBM blend)", "LeadEngine HPRO (BCE+HPRO+LM) (default: stacked + LightGBM blend): pairwise head",
            "LeadEngine HPRO (BCE+HPRO+LM) (default: stacked + LightGBM blend): LLM heads alone", "LeadEngine without HPRO (BCE+LM) (LLM heads)",
            "Funnel+Recency", "LightGBM (columns + dialogue TF-IDF)", "Funnel+CTR (stage, then LightGBM)", "LightGBM LambdaRank (funnel grades)", "a ninth model"];
        var models = names.Select(n => { var p = labels.Select(y => 0.1 * y + rng.NextDouble()).ToArray(); return new ScoredModel(n, p, p); }).ToArray();
        ReportCharts.Write(_dir, models, labels);
        ChartAssert.ShowsEverySeries(_dir, "gains", names);
        using var image = SkiaSharp.SKBitmap.Decode(Path.Combine(_dir, "gains.png"));
        Assert.Equal(ReportCharts.HeightFor(names.Length + 1), image.Height);
        for (int y = image.Height - 4; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                Assert.True(image.GetPixel(x, y) == SkiaSharp.SKColors.White, $"pixel ({x}, {y}) of {image.Width}×{image.Height} is drawn: the legend runs off the bottom edge");
    }

    [Fact]
    public void QuantileBinsHoldEqualCountsInProbabilityOrder()
    {
        var bins = LeadMetrics.QuantileCalibrationBins([0.1, 0.9, 0.2, 0.3, 0.5], [0, 1, 0, 1, 1], bins: 2);
        Assert.Equal(2, bins.Count);
        Assert.Equal((3, 0.1, 0.3), (bins[0].Count, bins[0].Lower, bins[0].Upper));
        Assert.Equal(0.2, bins[0].MeanPredicted, 12);
        Assert.Equal(1.0 / 3, bins[0].ObservedRate, 12);
        Assert.Equal((2, 0.7, 1.0), (bins[1].Count, bins[1].MeanPredicted, bins[1].ObservedRate));
        Assert.Single(LeadMetrics.QuantileCalibrationBins([0.4], [1], bins: 10));
    }
}
