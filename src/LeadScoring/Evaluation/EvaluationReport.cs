using LeadEngine.Engine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LeadEngine.Training;

namespace LeadEngine.LeadScoring.Evaluation;

/// <summary>One model's scores on the test leads.</summary>
/// <param name="Name">Model name in the report.</param>
/// <param name="Scores">Ranking scores (higher first).</param>
/// <param name="Probabilities">Calibrated probabilities, or null for rank-only baselines.</param>
public sealed record ScoredModel(string Name, double[] Scores, double[]? Probabilities);

/// <summary>The metrics of one model.</summary>
public sealed record ModelMetrics(string Name, double Auc, double PrecisionAt01, double PrecisionAt1, double RecallAt5, double? Brier, double? Ece);

/// <summary>
/// The eval report: ROC AUC, precision at the top 0.1% and 1%, recall at the top 5%, Brier and
/// ECE (10 bins) per model, as Markdown and JSON, with a cumulative gains chart and a calibration
/// plot as SVG files.
/// </summary>
public static class EvaluationReport
{
    /// <summary>Computes every model's metrics.</summary>
    public static List<ModelMetrics> Compute(IReadOnlyList<ScoredModel> models, IReadOnlyList<int> labels) =>
        models.Select(m => new ModelMetrics(m.Name,
            LeadMetrics.RocAuc(m.Scores, labels),
            LeadMetrics.PrecisionAtTop(m.Scores, labels, 0.001),
            LeadMetrics.PrecisionAtTop(m.Scores, labels, 0.01),
            LeadMetrics.RecallAtTop(m.Scores, labels, 0.05),
            m.Probabilities is null ? null : LeadMetrics.Brier(m.Probabilities, labels),
            m.Probabilities is null ? null : LeadMetrics.ExpectedCalibrationError(m.Probabilities, labels))).ToList();

    /// <summary>The Markdown table.</summary>
    public static string Markdown(IReadOnlyList<ModelMetrics> metrics, int leads, int positives)
    {
        static string F(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("F4", CultureInfo.InvariantCulture) : "n/a";
        var sb = new StringBuilder();
        sb.AppendLine($"Test leads: {leads:N0}, converted: {positives:N0} ({100.0 * positives / Math.Max(1, leads):F2}%)");
        sb.AppendLine();
        sb.AppendLine("| model | AUC | P@0.1% | P@1% | R@5% | Brier | ECE |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var m in metrics)
            sb.AppendLine($"| {m.Name} | {F(m.Auc)} | {F(m.PrecisionAt01)} | {F(m.PrecisionAt1)} | {F(m.RecallAt5)} | {F(m.Brier)} | {F(m.Ece)} |");
        return sb.ToString();
    }

    /// <summary>Writes report.md, report.json, gains.svg and calibration.svg into <paramref name="directory"/>.</summary>
    public static IReadOnlyList<ModelMetrics> Write(string directory, IReadOnlyList<ScoredModel> models, IReadOnlyList<int> labels)
    {
        Directory.CreateDirectory(directory);
        var metrics = Compute(models, labels);
        int positives = labels.Sum();
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"),
            "# Lead scoring evaluation\n\n" + Markdown(metrics, labels.Count, positives) + "\n![cumulative gains](gains.svg)\n![calibration](calibration.svg)\n");
        AtomicFile.WriteAllText(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(new
        {
            leads = labels.Count,
            positives,
            models = metrics.Select(m => new
            {
                name = m.Name, auc = Nan(m.Auc), precision_at_0_1pct = Nan(m.PrecisionAt01), precision_at_1pct = Nan(m.PrecisionAt1),
                recall_at_5pct = Nan(m.RecallAt5), brier = m.Brier, ece = m.Ece,
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(directory, "gains.svg"), Chart("Cumulative gains", "share of leads contacted", "share of conversions found",
            models.Select(m => (m.Name, LeadMetrics.CumulativeGains(m.Scores, labels).Select(p => (p.Contacted, p.Captured)).ToList())).ToList(), diagonal: true));
        AtomicFile.WriteAllText(Path.Combine(directory, "calibration.svg"), Chart("Calibration (10 bins)", "mean predicted probability", "observed conversion rate",
            models.Where(m => m.Probabilities is not null).Select(m => (m.Name, LeadMetrics.CalibrationBins(m.Probabilities!, labels)
                .Where(b => b.Count > 0).Select(b => (b.MeanPredicted, b.ObservedRate)).ToList())).ToList(), diagonal: true));
        return metrics;
    }

    private static double? Nan(double v) => double.IsNaN(v) ? null : v;

    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f"];

    /// <summary>
    /// An SVG line chart over [0, <paramref name="xMax"/>] × [0, <paramref name="yMax"/>] with a legend;
    /// long series are thinned to 400 points.
    /// </summary>
    public static string Chart(string title, string xLabel, string yLabel, List<(string Name, List<(double X, double Y)> Points)> series, bool diagonal,
        double xMax = 1, double yMax = 1)
    {
        const int W = 560, H = 420, L = 60, T = 40, PW = 460, PH = 320;
        string X(double x) => (L + x / xMax * PW).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double y) => (T + (1 - Math.Clamp(y / yMax, 0, 1)) * PH).ToString("F1", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/><text x=\"{W / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{title}</text>");
        sb.AppendLine($"<rect x=\"{L}\" y=\"{T}\" width=\"{PW}\" height=\"{PH}\" fill=\"none\" stroke=\"#444\"/>");
        for (int i = 0; i <= 4; i++)
        {
            double x = xMax * i / 4.0, y = yMax * i / 4.0;
            sb.AppendLine($"<text x=\"{X(x)}\" y=\"{T + PH + 16}\" text-anchor=\"middle\">{x:0.##}</text><text x=\"{L - 8}\" y=\"{Y(y)}\" text-anchor=\"end\" dy=\"4\">{y:0.##}</text>");
        }
        sb.AppendLine($"<text x=\"{L + PW / 2}\" y=\"{H - 12}\" text-anchor=\"middle\">{xLabel}</text>");
        sb.AppendLine($"<text transform=\"translate(16,{T + PH / 2}) rotate(-90)\" text-anchor=\"middle\">{yLabel}</text>");
        if (diagonal) sb.AppendLine($"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(xMax)}\" y2=\"{Y(yMax)}\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>");
        for (int s = 0; s < series.Count; s++)
        {
            var pts = series[s].Points;
            int step = Math.Max(1, pts.Count / 400);
            var thinned = pts.Where((_, i) => i % step == 0 || i == pts.Count - 1);
            string color = Colors[s % Colors.Length];
            sb.AppendLine($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(" ", thinned.Select(p => $"{X(p.X)},{Y(p.Y)}"))}\"/>");
            sb.AppendLine($"<rect x=\"{L + 12}\" y=\"{T + 10 + 18 * s}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{L + 30}\" y=\"{T + 15 + 18 * s}\">{System.Security.SecurityElement.Escape(series[s].Name)}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }
}
