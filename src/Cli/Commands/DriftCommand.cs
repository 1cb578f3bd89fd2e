using LeadEngine.Feedback;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine drift</c>: Drift of the served scores (population stability index) and of their calibration, last days vs before.</summary>
internal static class DriftCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("drift", "Drift of the served scores (population stability index) and of their calibration, last days vs before.", Run,
        Text("db", "SQLite path or PostgreSQL connection string"), Text("adapter", "adapter folder (its feedback.db)"), Number("current-days", "default 7"),
            Number("reference-days", "default 28"), Switch("json", "JSON output"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        string db = a.Optional("db") ?? Path.Combine(a.Optional("adapter") ?? BuiltInModel.AdapterDirectory, "feedback.db");
        double currentDays = a.Double("current-days", 7), referenceDays = a.Double("reference-days", 28);
        bool json = a.Flag("json");
        if (currentDays <= 0 || referenceDays <= 0) throw new UsageException("--current-days and --reference-days must be positive");
        if (!FeedbackStore.Exists(db)) throw new FileNotFoundException($"{db}: no feedback store (serve creates it)");
        var until = DateTimeOffset.UtcNow;
        var currentFrom = until.AddDays(-currentDays);
        var report = Run(db, currentFrom.AddDays(-referenceDays), currentFrom, until).GetAwaiter().GetResult();
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions
            {
                PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
                NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals
            }));
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
