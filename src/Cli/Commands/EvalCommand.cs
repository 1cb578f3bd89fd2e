using LeadEngine.Engine;
using LeadEngine.Evaluation;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.LeadFileArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine eval</c>: Report on the last 30% of a lead file by time, beside Funnel+Recency and LightGBM baselines (Markdown, JSON, charts).</summary>
internal static class EvalCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("eval", "Report on the last 30% of a lead file by time, beside Funnel+Recency and LightGBM baselines (Markdown, JSON, charts).", Run,
        [Text("adapter", "the adapter folder", required: true), Text("data", "the lead file", required: true),
            Text("report", "report folder (default ADAPTER/report)"),
            Text("window", "rank within windows of: day, week or N leads (default: day when the leads have dates, else 500 leads)"),
            Number("capacity", "share of each window's leads called, for P@capacity/window (default 0.1)"), Model(), .. Mapping(), SkipBadRows(), Device(), PrecisionOption()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string adapterDir = a.Required("adapter"), data = a.Required("data");
        string report = a.Optional("report", Path.Combine(adapterDir, "report"))!;
        var (modelDir, funnel, columns) = FromAdapter(a, adapterDir);
        bool skip = a.Flag("skip-bad-rows");
        var (train, test, _) = LeadPipeline.LoadAndSplit(data, funnel, skip, columns);
        // Cut before the scoring: a window the file cannot have is a usage error, not minutes later.
        var windows = RankingWindows.Of(test, a.Optional("window"), a.Double("capacity", RankingWindows.DefaultCapacityShare));
        using var device = OpenDevice(a);
        var scores = LeadPipeline.Score(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device, test);
        var result = ModelComparison.Evaluate([Adapter(adapterDir, scores)], train, test, funnel, report, windows);
        ConsoleTables.Metrics(result);
        Console.WriteLine($"report: {Path.Combine(report, "report.md")} (gains, lift, calibration and distribution as PNG and SVG, report.json)");
        return 0;
    }
}
