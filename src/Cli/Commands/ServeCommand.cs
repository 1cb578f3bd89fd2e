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
            Text("home", "continuous learning: HOME/feedback.db is the store (unless --db), HOME/versions holds the versions this host loads"),
            Text("db", "SQLite path or PostgreSQL connection string (default ADAPTER/feedback.db); with a model history in it, its version in force is served and followed"),
            Number("poll-seconds", "how often the store's model history is checked for a promotion or rollback (default 5)"),
            Switch("create-db", "create the SQLite store named by --db (or --home) when it does not exist; without it a missing one is an error"),
            Int("batch-size", $"leads per forward pass (default {LeadScorer.DefaultBatchSize})"), Int("queue", "leads waiting at most (default 1024)"), Int("max-body-kb", "default 1024"),
            Number("cooldown-hours", "a called lead stays off the call list this long (default 20)"),
            Text("policy", "greedy, epsilon-greedy[:0.1], softmax[:0.05] or thompson[:0.025] (the share of calls that explore) (default greedy)"), Number("update-every-hours", "scheduled updates of the store's model history (hosts on one store take turns)"), Device(), PrecisionOption(),
            Switch("no-timing", "call lists without call windows (when to call) and no pick-up model"),
            Int("capacity-per-hour", "calls the reps can make per hour, Monday-Saturday 8-20 in --timezone (default: as many as asked)"),
            Text("capacity-file", "CSV weekday,hour,calls (mon..sun, 0-23): the reps' capacity per hour of the week; hours not named are closed"),
            Text("timezone", "IANA time zone of the reps, and of leads without a utc_offset or timezone column (default UTC)"),
            Int("max-attempts", "unanswered call attempts after which a lead is closed (default 6)"),
            Switch("retry-same-slot", "a retry after no answer may go to the same slot of the week (default: another slot)"));

    /// <summary>Runs the command.</summary>
    public static int Run(CliArgs a)
    {
        var options = new ServeOptions
        {
            Host = a.Optional("bind", "127.0.0.1")!, Port = a.Int("port", 8080), QueueCapacity = a.Int("queue", 1024),
            MaxBodyBytes = 1024L * a.Int("max-body-kb", 1024), CallListCooldown = TimeSpan.FromHours(a.Double("cooldown-hours", 20)),
            RequireKeys = a.Flag("require-keys"),
            RequestsPerSecondPerKey = a.Has("rate-limit") ? (int)Math.Ceiling(a.Double("rate-limit", 0)) : null,
            TlsCertificate = a.Optional("tls-cert") is { } cert ? TlsCertificate(cert, a.Optional("tls-key")) : null,
        };
        string? adapterDir = a.Optional("adapter"), modelDir = a.Optional("model"), db = a.Optional("db"), home = a.Optional("home");
        if (home is not null) db ??= Path.Combine(home, "feedback.db");
        if (!options.LoopbackOnly && !options.RequireKeys)
            throw new UsageException($"--bind {options.Host} listens beyond this machine: add --require-keys (lead data is personal data)");
        if (options.RequestsPerSecondPerKey is { } limit && (limit <= 0 || !options.RequireKeys))
            throw new UsageException("--rate-limit needs --require-keys and a positive number of requests per second");
        options = options with { Policy = CallListPolicy.Parse(a.Optional("policy", "greedy")!), Timing = a.Flag("no-timing") ? null : TimingOptions(a) };
        int batchSize = a.Int("batch-size", LeadScorer.DefaultBatchSize);
        double? updateHours = a.Has("update-every-hours") ? a.Double("update-every-hours", 24) : null;
        var poll = TimeSpan.FromSeconds(a.Double("poll-seconds", 5));
        var (kind, precision) = DeviceChoice(a);
        if (updateHours is <= 0) throw new UsageException("--update-every-hours must be positive");
        if (poll <= TimeSpan.Zero) throw new UsageException("--poll-seconds must be positive");
        if (options.Port is < 0 or > 65535) throw new UsageException($"--port must be 0..65535, got {options.Port}");
        if (adapterDir is null && modelDir is not null) throw new UsageException("--model needs --adapter: a scorer needs trained heads (without both, the built-in default is served)");
        string target = db ?? Path.Combine(adapterDir ?? BuiltInModel.AdapterDirectory, "feedback.db");
        // Acknowledged feedback lives in the store: a missing one named by --db or --home is created only when asked.
        bool create = a.Flag("create-db");
        if (db is not null && !create && !FeedbackStore.Exists(db))
            throw new FileNotFoundException($"{db}: no feedback store there; pass --create-db to start a new, empty one (a missing store is never created silently)");
        if (!FeedbackStore.Exists(target))
        {
            Console.Error.WriteLine($"feedback store: none at {target}, creating a new, empty one ({(create ? "--create-db" : "the adapter's first run")})");
            create = true;
        }
        var settings = new Settings(options, target, create, CacheDir(target, home),
            adapterDir, modelDir, kind, precision, batchSize, poll, updateHours is { } hours ? TimeSpan.FromHours(hours) : null, home);
        return Run(settings).GetAwaiter().GetResult();
    }

    /// <summary>The PEM certificate and its key (in <paramref name="keyFile"/>, or in the certificate's file without one), or one line saying why not.</summary>
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 TlsCertificate(string certFile, string? keyFile)
    {
        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidDataException(keyFile is null
                ? $"{certFile}: no certificate with its private key in it ({e.Message.TrimEnd('.')}); give the key's file with --tls-key"
                : $"{certFile} with {keyFile}: not a PEM certificate and its private key ({e.Message.TrimEnd('.')})");
        }
    }

    private sealed record Settings(ServeOptions Options, string Db, bool Create, string CacheDir, string? Adapter, string? ModelDir,
        DeviceKind Kind, Precision Precision, int BatchSize, TimeSpan Poll, TimeSpan? UpdateEvery, string? HomeDir);

    private static void Log(string line) => Console.WriteLine($"[{DateTimeOffset.UtcNow:u}] {line}");

    /// <summary>
    /// Serves the version in force when the store has a model history (and follows it), else the named adapter, else the
    /// built-in default.
    /// </summary>
    private static async Task<int> Run(Settings s)
    {
        await using var store = await FeedbackStore.OpenAsync(s.Db, create: s.Create);
        bool history = await ModelVersions.ExistsAsync(store);
        if (history && s.Adapter is not null)
            throw new UsageException($"{store.Description} has a model history: serve its version in force by dropping --adapter, or give --db another store");
        if (!history && (s.UpdateEvery is not null || s.HomeDir is not null && s.Adapter is null))
            throw new UsageException($"{store.Description} has no model history to {(s.UpdateEvery is null ? "serve" : "update")}: {StartHistoryHint(s.Db, s.HomeDir)}");
        await using var follower = history ? await ModelFollower.OpenAsync(store, s.CacheDir, s.ModelDir, s.Kind, s.BatchSize, Log, s.Precision) : null;
        using var device = follower is null ? ComputeDevice.Open(s.Kind, precision: s.Precision) : null;
        if (device is not null) WarnIfPrecisionIgnored(device);
        string modelDir, adapterDir;
        if (follower is not null) (modelDir, adapterDir) = (follower.ModelDir, $"version {follower.FirstVersionId} of the store's model history");
        else if (s.Adapter is null) (modelDir, adapterDir) = ConsoleProgress.Run(progress => BuiltInModel.EnsureAdapter(device!, progress.Line, progress.Report));
        else (modelDir, adapterDir) = (s.ModelDir ?? BaseModel(s.Adapter), s.Adapter);
        if (device is not null) device.ScoringOnly = true; // from here on it only scores (the built-in adapter, if trained, was trained above)
        using var ownScorer = follower is null ? LeadScorer.Load(modelDir, adapterDir, QwenTokenizer.ForModel(modelDir), device: device, batchSize: s.BatchSize) : null;
        var scorer = follower?.First ?? ownScorer!;
        // A store without a history now may get one (update on any host): follow it from then on, as every other host does.
        await using var lateFollower = follower is null ? ModelFollower.ForAdapter(store, s.CacheDir, modelDir, s.Kind, s.BatchSize, Log, s.Precision) : null;
        await using var server = await LeadServer.StartAsync(scorer, store, s.Options, follower?.FirstVersionId);
        Console.WriteLine($"model {scorer.ModelVersion} ({modelDir} + {adapterDir}), policy {server.PolicyVersion}");
        Console.WriteLine($"feedback store {store.Description} (schema version {store.SchemaVersion})");
        (follower ?? lateFollower!).Follow(server, s.Poll);
        Console.WriteLine(follower is not null
            ? $"following the store's model history: a promotion or rollback on any host is served here within {s.Poll.TotalSeconds:g} s and a model load"
            : $"the store has no model history yet: once update starts one (on any host), its version in force is served here within {s.Poll.TotalSeconds:g} s and a model load");
        await using var updates = s.UpdateEvery is { } every ? new ScheduledUpdates(follower!, store, s.Kind, new UpdateOptions(), every, Log) : null;
        if (s.UpdateEvery is { } on) Console.WriteLine($"updating from the store's outcomes every {on:g} (hosts on this store take turns)");
        Console.WriteLine($"listening on {server.Address}");
        await server.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>When to call, from the timing flags.</summary>
    private static CallTimingOptions TimingOptions(CliArgs a)
    {
        if (a.Has("capacity-per-hour") && a.Has("capacity-file")) throw new UsageException("--capacity-per-hour and --capacity-file: give one");
        int perHour = a.Int("capacity-per-hour", CallHours.Unlimited);
        if (perHour < 1) throw new UsageException("--capacity-per-hour must be at least 1");
        CallHours hours;
        try
        {
            hours = a.Optional("capacity-file") is { } file ? CallHours.Read(file) : CallHours.Weekly(perHour);
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            throw new UsageException($"--capacity-file: {e.Message}");
        }
        int attempts = a.Int("max-attempts", 6);
        if (attempts < 1) throw new UsageException("--max-attempts must be at least 1");
        return new CallTimingOptions { Hours = hours, TimeZone = TimeZone(a), MaxUnansweredAttempts = attempts, RetrySameSlot = a.Flag("retry-same-slot") };
    }
}
