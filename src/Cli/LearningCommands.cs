using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;
using LeadEngine.Simulation;
using LeadEngine.LeadScoring;

namespace LeadEngine.Cli;

/// <summary><c>simulate</c>, <c>drift</c>, <c>update</c>, <c>versions</c> and <c>rollback</c>.</summary>
internal static class LearningCommands
{
    public static int Simulate(CliArgs a)
    {
        var options = new SimulationOptions
        {
            Days = a.Int("days", 30), Seeds = a.Int("seeds", 3), FirstSeed = a.Int("seed", 1), LeadsPerDay = a.Int("leads-per-day", 150),
            CallsPerDay = a.Int("calls-per-day", 30), HistoryDays = a.Int("history-days", 20), RetrainEvery = a.Int("retrain-every", 10),
            Drift = a.Double("drift", 1.0), Exploration = a.Double("exploration", 0.1), ModelDir = a.Optional("model"),
            UniformShare = a.Double("uniform-share", 0),
        };
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "simulation");
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (options.Exploration < 0) throw new UsageException("--exploration must be 0 or more");
        if (options.UniformShare is < 0 or > 1) throw new UsageException("--uniform-share must be in [0, 1]");
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
        progress.WriteLine($"wrote {Path.Combine(outDir, "simulation.md")} (simulation.json, cumulative.png and .svg); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    public static int Replay(CliArgs a)
    {
        string data = a.Required("data");
        var options = new ReplayOptions
        {
            LeadsPerDay = a.Int("leads-per-day", 400), CallsPerDay = a.Int("calls-per-day", 40), HistoryShare = a.Double("history-share", 0.3),
            RetrainEvery = a.Int("retrain-every", 10), Exploration = a.Double("exploration", 1.0), Seed = a.Int("seed", 1),
            UniformShare = a.Double("uniform-share", 0.1),
        };
        bool json = a.Flag("json");
        string outDir = a.Optional("out") ?? Path.Combine(BuiltInModel.Root, "replay");
        if (options.CallsPerDay < 1 || options.LeadsPerDay <= options.CallsPerDay)
            throw new UsageException("--calls-per-day must be at least 1 and below --leads-per-day");
        if (options.HistoryShare is <= 0 or >= 1) throw new UsageException("--history-share must be between 0 and 1");
        if (options.RetrainEvery < 1 || options.Exploration < 0) throw new UsageException("--retrain-every must be 1 or more and --exploration 0 or more");
        if (options.UniformShare is <= 0 or > 1) throw new UsageException("--uniform-share must be in (0, 1]");
        var funnel = LeadCommands.Funnel(a);
        var read = LeadDataReader.Read(data, funnel, requireOutcome: true, a.Flag("skip-bad-rows"), LeadCommands.Columns(a));
        var clock = Stopwatch.StartNew();
        var progress = json ? Console.Error : Console.Out;
        if (!json) LeadCommands.PrintNotes(read);
        var result = Simulation.Replay.Run(read.Leads, funnel, options, line => progress.WriteLine($"[{clock.Elapsed:mm\\:ss}] {line}"));
        Simulation.Replay.Write(outDir, result);
        Console.Write(json ? Simulation.Replay.Json(result) + "\n" : "\n" + Simulation.Replay.Markdown(result));
        progress.WriteLine($"wrote {Path.Combine(outDir, "replay.md")} (replay.json, cumulative.png and .svg); {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }

    public static int Drift(CliArgs a)
    {
        string db = a.Optional("db") ?? Path.Combine(a.Optional("adapter") ?? BuiltInModel.AdapterDirectory, "feedback.db");
        double currentDays = a.Double("current-days", 7), referenceDays = a.Double("reference-days", 28);
        bool json = a.Flag("json");
        if (currentDays <= 0 || referenceDays <= 0) throw new UsageException("--current-days and --reference-days must be positive");
        if (!FeedbackStore.IsPostgres(db) && !File.Exists(db)) throw new FileNotFoundException($"{db}: no feedback store (serve creates it)");
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

    public static int Update(CliArgs a)
    {
        string home = a.Required("home");
        string? adapter = a.Optional("adapter"), modelArg = a.Optional("model");
        string db = a.Optional("db") ?? Path.Combine(home, "feedback.db");
        var options = new UpdateOptions
        {
            Epochs = a.Int("epochs", 1), LearningRate = a.Double("lr", 1e-3), HoldoutFraction = a.Double("holdout", 0.2),
            Tolerance = a.Double("tolerance", 0.01), AttributionWindow = TimeSpan.FromDays(a.Double("window-days", 14)),
        };
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (options.HoldoutFraction is <= 0 or >= 1) throw new UsageException("--holdout must be between 0 and 1");
        ModelVersions versions;
        if (ModelVersions.Exists(home))
        {
            if (adapter is not null) throw new UsageException($"{home} has versions already; --adapter only starts a new home");
            versions = ModelVersions.Open(home);
        }
        else
        {
            if (adapter is null) throw new UsageException($"{home} has no versions yet: pass --adapter DIR to import the adapter that serves now");
            versions = ModelVersions.Create(home, adapter, DateTimeOffset.MinValue);
            Console.WriteLine($"imported {adapter} as {versions.Current}");
        }
        string modelDir = modelArg ?? ServeCommands.BaseModel(versions.Directory(versions.Current));
        using var device = ComputeDevice.Open(kind);
        var result = RunUpdate(versions, db, modelDir, device, options).GetAwaiter().GetResult();
        Console.WriteLine(result.Version is null ? $"no candidate: {result.Reason}" : $"{result.Version}: {result.Reason}");
        Console.WriteLine($"current version: {versions.Current} ({versions.Directory(versions.Current)})");
        return 0;
    }

    private static async Task<UpdateResult> RunUpdate(ModelVersions versions, string db, string modelDir, ComputeDevice device, UpdateOptions options)
    {
        await using var store = await FeedbackStore.OpenAsync(db);
        return await Updater.RunAsync(versions, store, modelDir, Engine.QwenTokenizer.ForModel(modelDir), device, options, DateTimeOffset.UtcNow, Console.WriteLine);
    }

    public static int Versions(CliArgs a)
    {
        string home = a.Required("home");
        var versions = ModelVersions.Open(home);
        foreach (var v in versions.Versions)
            Console.WriteLine($"{(v.Id == versions.Current ? "*" : " ")} {v.Id}  {v.Status,-8}  from {v.Parent ?? "-",-5}  {v.CreatedAt:yyyy-MM-dd HH:mm}  {v.Note}");
        return 0;
    }

    public static int Rollback(CliArgs a)
    {
        string home = a.Required("home");
        string? to = a.Optional("to");
        var versions = ModelVersions.Open(home);
        string from = versions.Current;
        var target = versions.Rollback(to);
        Console.WriteLine($"current version: {target.Id} (was {from}); restart serve --home {home} to serve it");
        return 0;
    }
}
