using LeadEngine.Engine;
using LeadEngine.LeadScoring;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.Learning;
using LeadEngine.Server;
using LeadEngine.Training;

namespace LeadEngine.Cli;

/// <summary><c>serve</c> and <c>load-test</c>.</summary>
internal static class ServeCommands
{
    public static int Serve(CliArgs a)
    {
        var options = new ServeOptions
        {
            Host = a.Optional("host", "127.0.0.1")!, Port = a.Int("port", 8080), QueueCapacity = a.Int("queue", 1024),
            MaxBodyBytes = 1024L * a.Int("max-body-kb", 1024), CallListCooldown = TimeSpan.FromHours(a.Double("cooldown-hours", 20)),
        };
        string? adapterDir = a.Optional("adapter"), modelDir = a.Optional("model"), db = a.Optional("db"), home = a.Optional("home");
        if (home is not null)
        {
            if (adapterDir is not null) throw new UsageException("--home serves its current version; drop --adapter");
            var versions = ModelVersions.Open(home);
            adapterDir = versions.Directory(versions.Current);
            db ??= Path.Combine(home, "feedback.db");
        }
        var policy = CallListPolicy.Parse(a.Optional("policy", "greedy")!);
        // Thompson sampling needs the Bayesian head fitted on the store's outcomes, which serve does not keep yet.
        if (policy is ThompsonPolicy) throw new UsageException("--policy thompson is not served yet (leadengine simulate has it); use greedy, epsilon-greedy[:E] or softmax[:T]");
        options = options with { Policy = policy };
        int batchSize = a.Int("batch-size", 16);
        double? updateHours = a.Has("update-every-hours") ? a.Double("update-every-hours", 24) : null;
        var kind = ComputeDevice.ParseKind(a.Optional("device", "auto")!);
        if (updateHours is not null && home is null) throw new UsageException("--update-every-hours needs --home: updates make versions there");
        if (updateHours is <= 0) throw new UsageException("--update-every-hours must be positive");
        if (options.Port is < 0 or > 65535) throw new UsageException($"--port must be 0..65535, got {options.Port}");
        if (adapterDir is null && modelDir is not null) throw new UsageException("--model needs --adapter: a scorer needs trained heads (without both, the built-in default is served)");
        using var device = ComputeDevice.Open(kind);
        if (adapterDir is null)
        {
            (modelDir, adapterDir) = ConsoleProgress.Run(progress => BuiltInModel.EnsureAdapter(device, progress.Line, progress.Report));
        }
        else
        {
            modelDir ??= BaseModel(adapterDir);
        }
        using var scorer = LeadScorer.Load(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device: device, batchSize: batchSize);
        var schedule = updateHours is { } hours ? (home!, TimeSpan.FromHours(hours), kind) : ((string, TimeSpan, DeviceKind)?)null;
        return Run(scorer, db ?? Path.Combine(adapterDir, "feedback.db"), options, modelDir, adapterDir, schedule).GetAwaiter().GetResult();
    }

    /// <summary>The model an adapter folder was trained on, for commands whose --model is optional.</summary>
    public static string BaseModel(string adapterDir) => AdapterCheckpoint.BaseModel(adapterDir)
        ?? throw new UsageException($"{adapterDir}: adapter_config.json names no base model; pass --model");

    private static async Task<int> Run(LeadScorer scorer, string db, ServeOptions options, string modelDir, string adapterDir,
        (string Home, TimeSpan Every, DeviceKind Kind)? schedule)
    {
        await using var store = await FeedbackStore.OpenAsync(db);
        await using var server = await LeadServer.StartAsync(scorer, store, options);
        Console.WriteLine($"model {scorer.ModelVersion} ({modelDir} + {adapterDir}), policy {server.PolicyVersion}");
        Console.WriteLine($"feedback store {store.Description} (schema version {store.SchemaVersion})");
        await using var updates = schedule is { } s
            ? new ScheduledUpdates(server, store, s.Home, modelDir, QwenTokenizer.ForModel(modelDir), s.Kind, new UpdateOptions(), s.Every,
                line => Console.WriteLine($"[{DateTimeOffset.UtcNow:u}] {line}"))
            : null;
        if (schedule is { } on) Console.WriteLine($"updating from the store's outcomes every {on.Every:g} into {on.Home}");
        Console.WriteLine($"listening on {server.Address}");
        await server.WaitForShutdownAsync();
        return 0;
    }

    public static int LoadTestCommand(CliArgs a)
    {
        var options = new LoadTestOptions
        {
            Target = new Uri(a.Required("url")), Clients = a.Int("clients", 4), Duration = TimeSpan.FromSeconds(a.Double("seconds", 10)),
            FeedbackShare = a.Double("feedback-share", 0.25), Seed = a.Int("seed", 1),
        };
        string? data = a.Optional("data");
        if (options.Clients < 1) throw new UsageException("--clients must be at least 1");
        var leads = LeadDataReader.Read(data ?? BuiltInModel.EnsureLeads(), FunnelConfig.Default, requireOutcome: false).Leads;
        Console.WriteLine($"load test: {options.Clients} clients for {options.Duration.TotalSeconds:F0} s against {options.Target} " +
            $"({100 * options.FeedbackShare:F0}% feedback, the rest one lead per score request), then one call list of 100");
        var lines = LoadTest.RunAsync(options, leads).GetAwaiter().GetResult();
        Console.WriteLine("| request | count | failed | per second | p50 ms | p95 ms | p99 ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var l in lines)
            Console.WriteLine($"| {l.Kind} | {l.Requests} | {l.Failures} | {(double.IsNaN(l.PerSecond) ? "-" : l.PerSecond.ToString("F1"))} | {l.P50Ms:F1} | {l.P95Ms:F1} | {l.P99Ms:F1} |");
        return lines.Sum(l => l.Failures) == 0 ? 0 : 1;
    }
}
