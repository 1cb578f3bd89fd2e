using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;

namespace LeadEngine.Cli;

/// <summary><c>leadengine update</c>: A candidate warm-started from the current version on the store's new outcomes plus replay, promoted only if not worse on a temporal hold-out and off-policy.</summary>
internal static class UpdateCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("update", "A candidate warm-started from the current version on the store's new outcomes plus replay, promoted only if not worse on a temporal hold-out and off-policy.", Run,
        Text("home", "versions folder", required: true), Text("adapter", "the first version (first time)"),
            Text("db", "SQLite path or PostgreSQL connection string"), Model(), Int("epochs", "default 1"), Number("lr", "default 1e-3"),
            Number("holdout", "share of outcomes held out (default 0.2)"), Number("tolerance", "default 0.01"), Number("window-days", "default 14"), Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
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
        // Updates learn from what serve stored: a missing store is an error, never a new empty one.
        if (!FeedbackStore.Exists(db))
            throw new FileNotFoundException($"{db}: no feedback store there; update learns from the outcomes serve stored (serve --db {db} --create-db starts one)");
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
        string modelDir = modelArg ?? ServeArgs.BaseModel(versions.Directory(versions.Current));
        using var device = ComputeDevice.Open(kind);
        var result = RunUpdate(versions, db, modelDir, device, options).GetAwaiter().GetResult();
        Console.WriteLine(result.Version is null ? $"no candidate: {result.Reason}" : $"{result.Version}: {result.Reason}");
        Console.WriteLine($"current version: {versions.Current} ({versions.Directory(versions.Current)})");
        return 0;
    }

    private static async Task<UpdateResult> RunUpdate(ModelVersions versions, string db, string modelDir, ComputeDevice device, UpdateOptions options)
    {
        await using var store = await FeedbackStore.OpenAsync(db, create: false);
        return await Updater.RunAsync(versions, store, modelDir, Engine.QwenTokenizer.ForModel(modelDir), device, options, DateTimeOffset.UtcNow, Console.WriteLine);
    }
}
