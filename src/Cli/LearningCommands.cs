using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;
using LeadEngine.Learning.Simulation;
using LeadEngine.Training;

namespace LeadEngine.Cli;

/// <summary><c>simulate</c> and <c>drift</c>.</summary>
internal static class LearningCommands
{
    public static int Simulate(CliArgs a)
    {
        var options = new SimulationOptions
        {
            Days = a.Int("days", 30), Seeds = a.Int("seeds", 3), FirstSeed = a.Int("seed", 1), LeadsPerDay = a.Int("leads-per-day", 150),
            CallsPerDay = a.Int("calls-per-day", 30), HistoryDays = a.Int("history-days", 20), RetrainEvery = a.Int("retrain-every", 10),
            Drift = a.Double("drift", 1.0), Exploration = a.Double("exploration", 0.1), ModelDir = a.Optional("model"),
        };
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "simulation");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        a.RejectUnknown();
        if (options.Exploration < 0) throw new UsageException("--exploration must be 0 or more");
        if (options.Days < 2 || options.Seeds < 1 || options.CallsPerDay < 2 || options.LeadsPerDay < 1 || options.HistoryDays < 1 || options.RetrainEvery < 1)
            throw new UsageException("--days needs 2 or more, --calls-per-day 2 or more, and --seeds, --leads-per-day, --history-days, --retrain-every 1 or more");
        var clock = Stopwatch.StartNew();
        using var device = ComputeDevice.Open(kind);
        // With --json, standard output is the JSON alone; progress goes to standard error.
        var progress = json ? Console.Error : Console.Out;
        var results = new Simulator(options, device, line => progress.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}")).Run();
        var report = new SimulationReport(options, results);
        report.Write(outDir);
        if (json) Console.WriteLine(report.Json());
        else
        {
            Console.WriteLine();
            Console.Write(report.Markdown());
        }
        progress.WriteLine($"wrote {Path.Combine(outDir, "simulation.md")} (simulation.json, cumulative.svg); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    public static int Drift(CliArgs a)
    {
        string db = a.Optional("db") ?? Path.Combine(a.Optional("adapter") ?? BuiltInModel.AdapterDirectory, "feedback.db");
        double currentDays = a.Double("current-days", 7), referenceDays = a.Double("reference-days", 28);
        bool json = a.Flag("json");
        a.RejectUnknown();
        if (currentDays <= 0 || referenceDays <= 0) throw new UsageException("--current-days and --reference-days must be positive");
        if (!db.Contains('=') && !db.Contains("://") && !File.Exists(db)) throw new FileNotFoundException($"{db}: no feedback store (serve creates it)");
        var until = DateTimeOffset.UtcNow;
        var currentFrom = until.AddDays(-currentDays);
        var report = Run(db, currentFrom.AddDays(-referenceDays), currentFrom, until).GetAwaiter().GetResult();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
                NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return 0;
        }
        var c = CultureInfo.InvariantCulture;
        string verdict = double.IsNaN(report.Psi) ? "not enough scores" : report.Psi < 0.1 ? "stable" : report.Psi < 0.25 ? "moderate shift" : "major shift";
        Console.WriteLine(string.Create(c, $"scores served: {report.ReferenceScores} leads in the {referenceDays:0.##} days before, {report.CurrentScores} in the last {currentDays:0.##} days"));
        Console.WriteLine(string.Create(c, $"population stability index of the probabilities: {report.Psi:F3} ({verdict})"));
        foreach (var (name, cal) in new[] { ("reference", report.ReferenceCalibration), ("current", report.CurrentCalibration) })
            Console.WriteLine(cal is null ? $"calibration, {name} window: no lead with a final outcome yet"
                : string.Create(c, $"calibration, {name} window: {cal.Leads} closed leads, predicted {cal.MeanPredicted:P2}, observed {cal.ObservedRate:P2}, ECE {cal.Ece:F4}"));
        return 0;
    }

    private static async Task<DriftReport> Run(string db, DateTimeOffset referenceFrom, DateTimeOffset currentFrom, DateTimeOffset until)
    {
        await using var store = await FeedbackStore.OpenAsync(db);
        return await Learning.Drift.ComputeAsync(store, referenceFrom, currentFrom, until);
    }
}
