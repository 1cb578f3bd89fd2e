using LeadEngine.Engine;
using LeadEngine.LeadScoring.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LeadEngine.Evaluation;

/// <summary>
/// The eval report, per model: the mean AUC and precision at the call capacity within ranking windows (what a call
/// centre sees, and what the report ranks by: <see cref="RankingWindows"/>), then the pooled ROC AUC, precision at the top
/// 0.1% and 1%, recall at the top 5%, Brier and ECE (10 equal-width bins), as Markdown and JSON, with the charts of
/// <see cref="ReportCharts"/>.
/// </summary>
public static class EvaluationReport
{
    /// <summary>Computes every model's metrics.</summary>
    public static List<ModelMetrics> Compute(IReadOnlyList<ScoredModel> models, IReadOnlyList<int> labels, RankingWindows windows) =>
        models.Select(m => new ModelMetrics(m.Name,
            windows.MeanAuc(m.Scores, labels),
            windows.MeanPrecisionAtCapacity(m.Scores, labels),
            LeadMetrics.RocAuc(m.Scores, labels),
            LeadMetrics.PrecisionAtTop(m.Scores, labels, 0.001),
            LeadMetrics.PrecisionAtTop(m.Scores, labels, 0.01),
            LeadMetrics.RecallAtTop(m.Scores, labels, 0.05),
            m.Probabilities is null ? null : LeadMetrics.Brier(m.Probabilities, labels),
            m.Probabilities is null ? null : LeadMetrics.ExpectedCalibrationError(m.Probabilities, labels))).ToList();

    /// <summary>The columns of the metrics table.</summary>
    public static IReadOnlyList<string> Header { get; } = ["model", "AUC/window", "P@capacity/window", "AUC pooled", "P@0.1%", "P@1%", "R@5%", "Brier", "ECE"];

    /// <summary>The metrics table's rows, as its cells (n/a where a model has no probability).</summary>
    public static IEnumerable<string[]> Rows(IReadOnlyList<ModelMetrics> metrics)
    {
        static string F(double? v) => v is double d && !double.IsNaN(d) ? d.ToString("F4", CultureInfo.InvariantCulture) : "n/a";
        return metrics.Select(m => new[] { m.Name, F(m.WindowAuc), F(m.WindowPrecision), F(m.Auc), F(m.PrecisionAt01), F(m.PrecisionAt1), F(m.RecallAt5), F(m.Brier), F(m.Ece) });
    }

    /// <summary>The line above the table: how many test leads and conversions, and how the first two columns rank.</summary>
    public static string Title(int leads, int positives, RankingWindows windows, int withBoth) =>
        $"Test leads: {leads:N0}, converted: {positives:N0} ({100.0 * positives / Math.Max(1, leads):F2}%). Ranked within windows of {(windows.Description is "day" or "week" ? "one " : "")}{windows.Description} " +
        $"({windows.Windows.Count:N0} windows, {withBoth:N0} with both outcomes; calls: {100 * windows.CapacityShare:0.#}% of each window's leads): " +
        "AUC/window and P@capacity/window are the means over windows, what a call centre ranking one window at a time gets; the other columns pool the whole test period.";

    /// <summary>A Markdown table, the first column left-aligned and the others right-aligned (numbers).</summary>
    public static string MarkdownTable(IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", header.Count - 1)));
        foreach (var row in rows) sb.AppendLine("| " + string.Join(" | ", row) + " |");
        return sb.ToString();
    }

    /// <summary>The Markdown table with its title line.</summary>
    public static string Markdown(IReadOnlyList<ModelMetrics> metrics, string title) =>
        title + Environment.NewLine + Environment.NewLine + MarkdownTable(Header, Rows(metrics));

    /// <summary>Writes report.md, report.json and the charts (<see cref="ReportCharts"/>: gains, lift, calibration, distribution; PNG and SVG) into <paramref name="directory"/>.</summary>
    public static EvaluationResult Write(string directory, IReadOnlyList<ScoredModel> models, IReadOnlyList<int> labels, RankingWindows windows)
    {
        Directory.CreateDirectory(directory);
        var metrics = Compute(models, labels, windows);
        int positives = labels.Sum(), withBoth = windows.WithBothOutcomes(labels);
        string title = Title(labels.Count, positives, windows, withBoth);
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"),
            "# Lead scoring evaluation\n\n" + Markdown(metrics, title) + "\n![cumulative gains](gains.png)\n![lift](lift.png)\n![calibration](calibration.png)\n![score distribution](distribution.png)\n");
        AtomicFile.WriteAllText(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(new
        {
            leads = labels.Count,
            positives,
            windows = new { window = windows.Description, count = windows.Windows.Count, with_both_outcomes = withBoth, capacity_share = windows.CapacityShare },
            models = metrics.Select(m => new
            {
                name = m.Name, window_auc = Nan(m.WindowAuc), window_precision_at_capacity = Nan(m.WindowPrecision), auc = Nan(m.Auc), precision_at_0_1pct = Nan(m.PrecisionAt01), precision_at_1pct = Nan(m.PrecisionAt1),
                recall_at_5pct = Nan(m.RecallAt5), brier = m.Brier, ece = m.Ece,
            }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        ReportCharts.Write(directory, models, labels);
        return new EvaluationResult(metrics, title);
    }

    private static double? Nan(double v) => double.IsNaN(v) ? null : v;
}
