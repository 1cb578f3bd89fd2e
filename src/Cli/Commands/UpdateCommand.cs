using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.ServeArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine update</c>: A candidate warm-started from the current version on the store's new outcomes plus replay, promoted only if not worse on a temporal hold-out and off-policy.</summary>
internal static class UpdateCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("update", "A candidate warm-started from the version in force on the store's new outcomes plus replay, promoted only if not worse on a temporal hold-out and off-policy; each host on the store serves it at its next check (update prints what each serves).", Run,
        [.. HistoryOptions(), Text("adapter", "the first version (starts the store's model history)"), Model(), Int("epochs", "default 1"), Number("lr", "default 1e-3"),
            Number("holdout", "share of outcomes held out (default 0.2)"), Number("tolerance", "default 0.01"), Number("window-days", "default 14"), Device()]);

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var (db, cacheDir) = HistoryStore(a);
        string? adapter = a.Optional("adapter"), modelArg = a.Optional("model");
        var options = new UpdateOptions
        {
            Epochs = a.Int("epochs", 1), LearningRate = a.Double("lr", 1e-3), HoldoutFraction = a.Double("holdout", 0.2),
            Tolerance = a.Double("tolerance", 0.01), AttributionWindow = TimeSpan.FromDays(a.Double("window-days", 14)),
        };
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (options.HoldoutFraction is <= 0 or >= 1) throw new UsageException("--holdout must be between 0 and 1");
        return RunAsync(db, cacheDir, a.Optional("home"), adapter, modelArg, kind, options).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string db, string cacheDir, string? home, string? adapter, string? modelArg, DeviceKind kind, UpdateOptions options)
    {
        // Updates learn from what serve stored: a missing store is an error, never a new empty one.
        await using var store = await OpenExistingAsync(db);
        ModelVersions versions;
        if (await ModelVersions.ExistsAsync(store))
        {
            if (adapter is not null) throw new UsageException($"{store.Description} has a model history already; --adapter only starts one");
            versions = await ModelVersions.OpenAsync(store, cacheDir);
        }
        else
        {
            if (adapter is null)
                throw new UsageException($"{store.Description} has no model history yet: pass --adapter DIR to import the adapter that serves now" +
                    (home is not null && File.Exists(Path.Combine(home, "registry.json")) ? $" ({StartHistoryHint(db, home)})" : ""));
            versions = await ModelVersions.ImportAsync(store, cacheDir, adapter);
            Console.WriteLine($"imported {adapter} as {versions.Current}");
        }
        string modelDir = modelArg ?? BaseModel(await versions.DirectoryAsync(versions.Current));
        using var device = ComputeDevice.Open(kind);
        var result = await Updater.RunAsync(store, cacheDir, modelDir, Engine.QwenTokenizer.ForModel(modelDir), device, options, DateTimeOffset.UtcNow, Console.WriteLine);
        Console.WriteLine(result.Version is null ? $"no candidate: {result.Reason}" : $"{result.Version}: {result.Reason}");
        var now = await ModelVersions.OpenAsync(store, cacheDir);
        await PrintHostsAsync(store, now.Current);
        return 0;
    }
}
