using LeadEngine.Engine;
using LeadEngine.Feedback;
using LeadEngine.Kernels;
using LeadEngine.LeadScoring;
using LeadEngine.Learning;
using LeadEngine.Server;
using System.CommandLine;
using static LeadEngine.Cli.CommandLine;
using static LeadEngine.Cli.ServeArgs;

namespace LeadEngine.Cli;

/// <summary><c>leadengine serve</c>: The scoring service (HTTP/JSON): POST /v1/score, GET /v1/call-list?k=K, POST /v1/feedback, GET /v1/leads/ID, /healthz, /metrics; without --adapter the built-in default.</summary>
internal static class ServeCommand
{
    /// <summary>The command with its options.</summary>
    public static Command Definition() => Define("serve", "The scoring service (HTTP/JSON): POST /v1/score, GET /v1/call-list?k=K, POST /v1/feedback, GET /v1/leads/ID, /healthz, /metrics; without --adapter the built-in default.", Run,
        Int("port", "default 8080"),
            Text("bind", "address to listen on (default 127.0.0.1); beyond loopback needs --require-keys"),
            Switch("require-keys", "every endpoint but /healthz needs 'Authorization: Bearer KEY' with its scope (leadengine keys add)"),
            Number("rate-limit", "requests per second per key (with --require-keys; 429 beyond)"),
            Text("tls-cert", "PEM certificate file: serve HTTPS"), Text("tls-key", "PEM private key of --tls-cert (when not in the same file)"), Text("adapter", "adapter folder"), Model(),
            Text("home", "versions folder (continuous learning)"), Text("db", "SQLite path or PostgreSQL connection string (default ADAPTER/feedback.db)"),
            Switch("create-db", "create the SQLite store named by --db (or --home) when it does not exist; without it a missing one is an error"),
            Int("batch-size", "default 16"), Int("queue", "leads waiting at most (default 1024)"), Int("max-body-kb", "default 1024"),
            Number("cooldown-hours", "a called lead stays off the call list this long (default 20)"),
            Text("policy", "greedy, epsilon-greedy[:0.1], softmax[:0.05] or thompson (default greedy)"), Number("update-every-hours", "scheduled updates (with --home)"), Device());

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var options = new ServeOptions
        {
            Host = a.Optional("bind", "127.0.0.1")!, Port = a.Int("port", 8080), QueueCapacity = a.Int("queue", 1024),
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
        options = options with
        {
            RequireKeys = a.Flag("require-keys"),
            RequestsPerSecondPerKey = a.Has("rate-limit") ? (int)Math.Ceiling(a.Double("rate-limit", 0)) : null,
            TlsCertificate = a.Optional("tls-cert") is { } cert
                ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cert, a.Optional("tls-key"))
                : null,
        };
        if (!options.LoopbackOnly && !options.RequireKeys)
            throw new UsageException($"--bind {options.Host} listens beyond this machine: add --require-keys (lead data is personal data)");
        if (options.RequestsPerSecondPerKey is { } limit && (limit <= 0 || !options.RequireKeys))
            throw new UsageException("--rate-limit needs --require-keys and a positive number of requests per second");
        // Acknowledged feedback lives in the store: a missing one named by --db or --home is created only when asked.
        bool create = a.Flag("create-db");
        if (db is not null && !create && !FeedbackStore.Exists(db))
            throw new FileNotFoundException($"{db}: no feedback store there; pass --create-db to start a new, empty one (a missing store is never created silently)");
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
        string target = db ?? Path.Combine(adapterDir, "feedback.db");
        if (!FeedbackStore.Exists(target))
        {
            Console.Error.WriteLine($"feedback store: none at {target}, creating a new, empty one ({(create ? "--create-db" : "the adapter's first run")})");
            create = true;
        }
        return Run(scorer, target, create, options, modelDir, adapterDir, schedule).GetAwaiter().GetResult();
    }

    private static async Task<int> Run(LeadScorer scorer, string db, bool create, ServeOptions options, string modelDir, string adapterDir,
        (string Home, TimeSpan Every, DeviceKind Kind)? schedule)
    {
        await using var store = await FeedbackStore.OpenAsync(db, create: create);
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
}
