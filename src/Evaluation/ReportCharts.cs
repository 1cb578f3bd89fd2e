using LeadEngine.Engine;
using LeadEngine.LeadScoring.Metrics;
using ScottPlot;

namespace LeadEngine.Evaluation;

/// <summary>
/// The report charts, drawn with ScottPlot and written as PNG beside SVG (atomically): cumulative gains,
/// lift, calibration over quantile bins with the axes zoomed to where the probabilities are, and the score
/// distribution by outcome.
/// </summary>
public static class ReportCharts
{
    private const int Width = 760, Height = 620;

    /// <summary>Legend rows the base height holds below the data, and the height of each further row (ScottPlot's 12-point legend).</summary>
    public const int LegendRowsInBaseHeight = 4, LegendRowHeight = 22;

    /// <summary>The height of a chart with <paramref name="legendEntries"/> legend entries.</summary>
    public static int HeightFor(int legendEntries) => Height + LegendRowHeight * Math.Max(0, legendEntries - LegendRowsInBaseHeight);

    /// <summary>Bins of the calibration chart: equal-count, so at a 2% rate the bins still spread over the predictions.</summary>
    public const int CalibrationQuantiles = 10;

    /// <summary>
    /// Writes <paramref name="name"/>.png and .svg into <paramref name="directory"/>: a line per series, a
    /// dashed y = x named <paramref name="diagonal"/> when given, markers when <paramref name="markers"/>.
    /// Axis limits are [0, xMax] × [0, yMax], or fitted to the data when null.
    /// </summary>
    public static void Lines(string directory, string name, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series,
        string? diagonal = null, bool markers = false, double? xMax = null, double? yMax = null)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X.ToArray(), s.Y.ToArray());
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = markers ? 7 : 0;
        }
        double top = Math.Max(xMax ?? 1, yMax ?? 1);
        if (diagonal is not null)
        {
            var reference = plot.Add.Line(0, 0, top, top);
            reference.LinePattern = LinePattern.Dashed;
            reference.Color = Colors.Gray;
            reference.LegendText = diagonal;
        }
        if (xMax is double x && yMax is double y) plot.Axes.SetLimits(0, x, 0, y);
        // Below the data, where long model names hide no curve; the image grows by a row per entry beyond what its
        // base height holds, or the legend would be cut off at the bottom edge (the demo's nine curves showed five).
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Vertical; // set after the panel, which measures a bottom legend as one wrapped row otherwise
        int entries = series.Count + (diagonal is null ? 0 : 1);
        Save(plot, directory, name, HeightFor(entries));
    }

    /// <summary>
    /// Writes <paramref name="name"/>.png and .svg: a heatmap of P(answer) by weekday (rows, Monday on top) × two-hour band (columns),
    /// each cell labelled with its percentage and, when <paramref name="counts"/> is given, the attempts observed there.
    /// </summary>
    public static void Heatmap(string directory, string name, string title, double[,] rates, int[,]? counts = null)
    {
        int days = rates.GetLength(0), bands = rates.GetLength(1);
        var plot = new Plot();
        plot.Title(title);
        var map = plot.Add.Heatmap(rates);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.NaNCellColor = Colors.LightGray;
        plot.Add.ColorBar(map).Label = "P(answer)";
        string[] dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        // Cells are centred on whole coordinates, row 0 (Monday) on top.
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bands).Select(b => (double)b).ToArray(), Enumerable.Range(0, bands).Select(b => $"{24 / bands * b:D2}").ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, days).Select(d => (double)(days - 1 - d)).ToArray(), dayNames.Take(days).ToArray());
        plot.XLabel("hour the two-hour window starts (lead's local time)");
        for (int d = 0; d < days; d++)
            for (int b = 0; b < bands; b++)
            {
                if (double.IsNaN(rates[d, b]) && (counts is null || counts[d, b] == 0)) continue;
                string text = double.IsNaN(rates[d, b]) ? "" : $"{100 * rates[d, b]:F0}%";
                if (counts is not null && counts[d, b] > 0) text += $"\n{counts[d, b]}";
                var label = plot.Add.Text(text, b, days - 1 - d);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 10;
                label.LabelFontColor = rates[d, b] > 0.5 ? Colors.Black : Colors.White;
            }
        Save(plot, directory, name, Height);
    }

    /// <summary>Writes gains, lift, calibration and distribution charts for the models into <paramref name="directory"/>.</summary>
    public static void Write(string directory, IReadOnlyList<ScoredModel> models, IReadOnlyList<int> labels)
    {
        var gains = models.Select(m => (m.Name, Points: Thin(LeadMetrics.CumulativeGains(m.Scores, labels)))).ToList();
        Lines(directory, "gains", "Cumulative gains", "share of leads contacted", "share of conversions found",
            gains.Select(g => new ChartSeries(g.Name, g.Points.Select(p => p.Contacted).ToList(), g.Points.Select(p => p.Captured).ToList())).ToList(),
            diagonal: "random order", xMax: 1, yMax: 1);
        // Lift from the first 1% on: below it a handful of leads make the ratio noise.
        var lift = gains.Select(g => new ChartSeries(g.Name, g.Points.Where(p => p.Contacted >= 0.01).Select(p => p.Contacted).ToList(),
            g.Points.Where(p => p.Contacted >= 0.01).Select(p => p.Captured / p.Contacted).ToList())).ToList();
        Lines(directory, "lift", "Lift (conversion rate in the top share ÷ overall rate)", "share of leads contacted", "lift", lift);

        var calibrated = models.Where(m => m.Probabilities is not null).ToList();
        var bins = calibrated.Select(m => (m.Name, Bins: LeadMetrics.QuantileCalibrationBins(m.Probabilities!, labels, CalibrationQuantiles))).ToList();
        // Zoomed to the largest predicted or observed rate: at low conversion rates [0, 1] puts every point in one corner.
        double reach = bins.SelectMany(b => b.Bins).Select(b => Math.Max(b.MeanPredicted, b.ObservedRate)).DefaultIfEmpty(1).Max();
        double limit = Math.Min(1, Math.Max(0.01, reach * 1.1));
        Lines(directory, "calibration", $"Calibration ({CalibrationQuantiles} quantile bins of the predicted probability)", "mean predicted probability",
            "observed conversion rate", bins.Select(b => new ChartSeries(b.Name, b.Bins.Select(x => x.MeanPredicted).ToList(), b.Bins.Select(x => x.ObservedRate).ToList())).ToList(),
            diagonal: "perfect calibration", markers: true, xMax: limit, yMax: limit);

        if (calibrated.Count > 0) Distribution(directory, calibrated[0], labels);
    }

    /// <summary>The first calibrated model's probability histogram for converted and other leads (each normalised to its own count).</summary>
    private static void Distribution(string directory, ScoredModel model, IReadOnlyList<int> labels)
    {
        const int Bins = 40;
        double max = Math.Max(1e-9, model.Probabilities!.Max());
        ChartSeries Histogram(string name, int label)
        {
            var values = model.Probabilities!.Where((_, i) => labels[i] == label).ToList();
            var share = new double[Bins];
            foreach (double p in values) share[Math.Min(Bins - 1, (int)(p / max * Bins))] += 1.0 / Math.Max(1, values.Count);
            return new ChartSeries($"{name} ({values.Count:N0})", Enumerable.Range(0, Bins).Select(b => (b + 0.5) * max / Bins).ToList(), share);
        }
        Lines(directory, "distribution", $"Predicted probability by outcome: {model.Name}", "predicted probability", "share of the group's leads",
            [Histogram("converted", 1), Histogram("not converted", 0)], markers: true);
    }

    /// <summary>At most 400 points of a curve, keeping the last.</summary>
    private static List<(double Contacted, double Captured)> Thin(IReadOnlyList<(double Contacted, double Captured)> points)
    {
        int step = Math.Max(1, points.Count / 400);
        return points.Where((_, i) => i % step == 0 || i == points.Count - 1).ToList();
    }

    private static void Save(Plot plot, string directory, string name, int height)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllBytes(Path.Combine(directory, name + ".png"), plot.GetImageBytes(Width, height, ImageFormat.Png));
        AtomicFile.WriteAllText(Path.Combine(directory, name + ".svg"), plot.GetSvgXml(Width, height));
    }
}
